// ZkClient against real ZooKeeper servers started by the test.
#include "zk/zk_client.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "support/zookeeper_ensemble.h"

namespace sluice::zk {
namespace {

using testing::ZooKeeperEnsemble;
using namespace std::chrono_literals;

// Collects watch events so a test can wait for them (with a bound).
class Events {
 public:
  Watcher Recorder() {
    return [this](WatchEvent e, const std::string& path) {
      std::lock_guard lock(mu_);
      seen_.emplace_back(e, path);
      cv_.notify_all();
    };
  }
  // Waits until at least `n` events have arrived.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return seen_.size() >= n; });
  }
  std::vector<std::pair<WatchEvent, std::string>> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<WatchEvent, std::string>> seen_;
};

class ZkClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(zk_.Start().ok()); }

  std::unique_ptr<ZkClient> Connect(std::string suffix = "", int32_t session_ms = 6000) {
    ZkOptions o;
    o.connect = zk_.connect_string() + suffix;
    o.session_timeout_ms = session_ms;
    o.connection_timeout_ms = 20000;
    auto c = ZkClient::Connect(std::move(o));
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(*c) : nullptr;
  }

  ZooKeeperEnsemble zk_{1};
};

TEST_F(ZkClientTest, VersionedWritesFailWhenTheNodeMovedOn) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Create("/state", "a", CreateMode::kPersistent).ok());
  auto got = c->Get("/state");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data, "a");
  EXPECT_EQ(got->stat.version, 0);

  auto set = c->Set("/state", "b", 0);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->version, 1);
  // A writer still holding version 0 loses.
  auto stale = c->Set("/state", "c", 0);
  EXPECT_EQ(stale.code(), ZkCode::kBadVersion);
  EXPECT_EQ(c->Delete("/state", 0).code(), ZkCode::kBadVersion);
  EXPECT_EQ(c->Get("/state")->data, "b");

  EXPECT_TRUE(c->Delete("/state", 1).ok());
  EXPECT_EQ(c->Get("/state").code(), ZkCode::kNoNode);
  EXPECT_EQ(c->Create("/missing/parent", "", CreateMode::kPersistent).code(), ZkCode::kNoNode);
}

TEST_F(ZkClientTest, CreateRecursiveMakesParentsAndKeepsAnExistingLeaf) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->CreateRecursive("/brokers/topics/orders", "v1").ok());
  EXPECT_EQ(c->Get("/brokers/topics/orders")->data, "v1");
  EXPECT_EQ(c->Get("/brokers/topics")->data, "");
  ASSERT_TRUE(c->CreateRecursive("/brokers/topics/orders", "v2").ok());
  EXPECT_EQ(c->Get("/brokers/topics/orders")->data, "v1");
  auto children = c->GetChildren("/brokers");
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(*children, std::vector<std::string>{"topics"});
}

TEST_F(ZkClientTest, EphemeralNodeGoesWithItsSessionAndWatchersHear) {
  auto owner = Connect();
  auto observer = Connect();
  ASSERT_TRUE(owner && observer);
  ASSERT_TRUE(observer->CreateRecursive("/brokers/ids").ok());
  auto made = owner->Create("/brokers/ids/1", "{\"host\":\"127.0.0.1\"}", CreateMode::kEphemeral);
  ASSERT_TRUE(made.ok()) << made.error().message();
  EXPECT_EQ(*made, "/brokers/ids/1");
  auto stat = observer->Exists("/brokers/ids/1");
  ASSERT_TRUE(stat.ok() && stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, owner->session_id());

  Events node, children;
  ASSERT_TRUE(observer->Exists("/brokers/ids/1", node.Recorder()).ok());
  ASSERT_TRUE(observer->GetChildren("/brokers/ids", children.Recorder()).ok());
  owner.reset();  // Closing the session deletes its ephemeral nodes at once.
  ASSERT_TRUE(node.WaitFor(1));
  EXPECT_EQ(node.seen()[0], std::make_pair(WatchEvent::kDeleted, std::string("/brokers/ids/1")));
  ASSERT_TRUE(children.WaitFor(1));
  EXPECT_EQ(children.seen()[0].first, WatchEvent::kChildrenChanged);
  EXPECT_FALSE(observer->Exists("/brokers/ids/1")->has_value());
}

TEST_F(ZkClientTest, AWatchFiresOnceForTheFirstChange) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Create("/controller_epoch", "1", CreateMode::kPersistent).ok());
  Events events;
  ASSERT_TRUE(c->Get("/controller_epoch", events.Recorder()).ok());
  ASSERT_TRUE(c->Set("/controller_epoch", "2", -1).ok());
  ASSERT_TRUE(events.WaitFor(1));
  ASSERT_TRUE(c->Set("/controller_epoch", "3", -1).ok());
  // The client delivers events in order on one thread: once an event caused
  // after the second change has arrived, a second firing would have too.
  Events later;
  ASSERT_TRUE(c->Exists("/other", later.Recorder()).ok());
  ASSERT_TRUE(c->Create("/other", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(later.WaitFor(1));
  EXPECT_EQ(later.seen()[0].first, WatchEvent::kCreated);
  ASSERT_EQ(events.seen().size(), 1u);
  EXPECT_EQ(events.seen()[0].first, WatchEvent::kDataChanged);
}

TEST_F(ZkClientTest, AChrootIsCreatedAndEveryPathLivesBelowIt) {
  auto inside = Connect("/sluice/cluster-a");
  ASSERT_TRUE(inside);
  ASSERT_TRUE(inside->CreateRecursive("/brokers/ids").ok());
  auto root = Connect();
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->Exists("/sluice/cluster-a/brokers/ids")->has_value());
  EXPECT_FALSE(root->Exists("/brokers")->has_value());
}

TEST_F(ZkClientTest, MultiIsAllOrNothing) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Create("/epoch", "5", CreateMode::kPersistent).ok());
  // The check names a version the node no longer has: nothing happens.
  ASSERT_TRUE(c->Set("/epoch", "6", 0).ok());
  ZkError failed = c->Multi({ZkOp::Check("/epoch", 0), ZkOp::Create("/a", "x"),
                             ZkOp::Set("/epoch", "7", -1)});
  EXPECT_EQ(failed.code(), ZkCode::kBadVersion);
  EXPECT_FALSE(c->Exists("/a")->has_value());
  EXPECT_EQ(c->Get("/epoch")->data, "6");

  ZkError done = c->Multi({ZkOp::Check("/epoch", 1), ZkOp::Create("/a", "x"),
                           ZkOp::Set("/epoch", "7", 1)});
  EXPECT_TRUE(done.ok()) << done.message();
  EXPECT_EQ(c->Get("/a")->data, "x");
  EXPECT_EQ(c->Get("/epoch")->data, "7");
}

TEST_F(ZkClientTest, ASessionSurvivesAServerRestartWithinItsTimeout) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<SessionState> states;
  ZkOptions o;
  o.connect = zk_.connect_string();
  o.session_timeout_ms = 20000;
  o.on_session = [&](SessionState s) {
    std::lock_guard lock(mu);
    states.push_back(s);
    cv.notify_all();
  };
  auto c = ZkClient::Connect(o);
  ASSERT_TRUE(c.ok()) << c.error().message();
  ZkClient& client = **c;
  ASSERT_TRUE(client.Create("/alive", "1", CreateMode::kEphemeral).ok());
  const int64_t session = client.session_id();

  ASSERT_TRUE(zk_.Restart(0).ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] {
      return states.size() >= 2 && states.back() == SessionState::kConnected;
    }));
    EXPECT_EQ(states[states.size() - 2], SessionState::kDisconnected);
  }
  // Reads retry through the reconnection; the session and its node survive.
  auto alive = client.Get("/alive");
  ASSERT_TRUE(alive.ok()) << alive.error().message();
  EXPECT_EQ(alive->stat.ephemeral_owner, session);
  EXPECT_EQ(client.session_id(), session);
}

TEST_F(ZkClientTest, AnExpiredSessionIsReportedAndItsWatchesEnd) {
  std::mutex mu;
  std::condition_variable cv;
  bool expired = false;
  ZkOptions o;
  o.connect = zk_.connect_string();
  o.session_timeout_ms = 4000;
  o.on_session = [&](SessionState s) {
    std::lock_guard lock(mu);
    if (s == SessionState::kExpired) expired = true;
    cv.notify_all();
  };
  auto c = ZkClient::Connect(o);
  ASSERT_TRUE(c.ok());
  ZkClient& client = **c;
  ASSERT_TRUE(client.Create("/mine", "", CreateMode::kEphemeral).ok());
  Events events;
  ASSERT_TRUE(client.Exists("/never", events.Recorder()).ok());

  ASSERT_TRUE(zk_.ExpireSession(client.session_id(), client.session_password(), [&] {
                   return client.state() == SessionState::kExpired;
                 }).ok());

  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return expired; }));
  }
  EXPECT_EQ(client.state(), SessionState::kExpired);
  ASSERT_TRUE(events.WaitFor(1));
  EXPECT_EQ(events.seen()[0].first, WatchEvent::kSessionEnded);
  auto other = Connect();
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->Exists("/mine")->has_value());
  // Calls on the dead session fail at once rather than hang.
  EXPECT_FALSE(client.Get("/mine").ok());
}

TEST(ZkEnsembleTest, AQuorumKeepsServingWhenOneOfThreeServersDies) {
  ZooKeeperEnsemble zk(3);
  ASSERT_TRUE(zk.Start().ok());
  ZkOptions o;
  o.connect = zk.connect_string();
  o.session_timeout_ms = 10000;
  auto c = ZkClient::Connect(o);
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_TRUE((*c)->Create("/k", "1", CreateMode::kPersistent).ok());
  for (int victim = 0; victim < 3; ++victim) {
    zk.Kill(victim);
    // The client may have been on the victim: the write retries elsewhere.
    auto set = (*c)->Set("/k", std::to_string(victim + 2), -1);
    EXPECT_TRUE(set.ok()) << "with server " << victim + 1 << " down: " << set.error().message();
    ASSERT_TRUE(zk.Restart(victim).ok());
  }
  EXPECT_EQ((*c)->Get("/k")->data, "4");
}

}  // namespace
}  // namespace sluice::zk
