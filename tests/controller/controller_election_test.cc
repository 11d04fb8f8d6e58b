// Controller election through a real ZooKeeper server started by the test.
#include "controller/controller_election.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/znodes.h"

namespace sluice::controller {
namespace {

using namespace std::chrono_literals;
using testing::WaitUntil;
using testing::ZooKeeperEnsemble;

// One broker's view: its session, its loop, its election.
struct Candidate {
  Candidate(const std::string& connect, int32_t id) : loop("election-" + std::to_string(id)) {
    ZkSessionOptions o;
    o.zk.connect = connect;
    o.zk.session_timeout_ms = 4000;
    o.on_expired = [this] { election->OnSessionExpired(); };
    o.on_new_session = [this] { election->OnNewSession(); };
    ElectionOptions e;
    e.broker_id = id;
    e.on_elected = [this](ControllerEpoch) { ++elected; };
    e.on_resigned = [this] { ++resigned; };
    // The callbacks above post to `election`, which needs the session: they
    // cannot fire before the first session expires, long after this.
    auto s = ZkSession::Open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error().message();
    session = std::move(*s);
    election = std::make_unique<ControllerElection>(session.get(), &loop, e);
    election->Start();
  }
  ~Candidate() {
    loop.Stop();
    session.reset();
  }

  EventLoop loop;
  std::unique_ptr<ZkSession> session;
  std::unique_ptr<ControllerElection> election;
  std::atomic<int> elected{0};
  std::atomic<int> resigned{0};
};

class ControllerElectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(zk_.Start().ok()); }

  std::unique_ptr<zk::ZkClient> Observer() {
    zk::ZkOptions o;
    o.connect = zk_.connect_string();
    auto c = zk::ZkClient::Connect(o);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }
  // Ids of the candidates that believe they are the controller.
  static std::vector<int32_t> Leaders(const std::vector<std::unique_ptr<Candidate>>& cs) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (cs[i] && cs[i]->election->is_controller()) out.push_back(static_cast<int32_t>(i + 1));
    }
    return out;
  }

  ZooKeeperEnsemble zk_{1};
};

TEST_F(ControllerElectionTest, ExactlyOneOfThreeBrokersWinsTheFirstEpoch) {
  std::vector<std::unique_ptr<Candidate>> cs;
  for (int32_t id = 1; id <= 3; ++id) cs.push_back(std::make_unique<Candidate>(zk_.connect_string(), id));
  ASSERT_TRUE(WaitUntil([&] {
    if (Leaders(cs).size() != 1) return false;
    const int32_t leader = Leaders(cs)[0];
    return std::all_of(cs.begin(), cs.end(), [&](const auto& c) {
      return c->election->active_controller() == leader;
    });
  }));
  const int32_t leader = Leaders(cs)[0];
  EXPECT_EQ(cs[static_cast<size_t>(leader - 1)]->election->epoch().epoch, 1);
  auto observer = Observer();
  EXPECT_EQ(*zk::DecodeControllerEpoch(observer->Get(zk::kControllerEpochPath)->data), 1);
  EXPECT_EQ(zk::DecodeController(observer->Get(zk::kControllerPath)->data)->broker_id, leader);
}

TEST_F(ControllerElectionTest, WhenTheControllerGoesAnotherBrokerTakesTheNextEpoch) {
  std::vector<std::unique_ptr<Candidate>> cs;
  for (int32_t id = 1; id <= 3; ++id) cs.push_back(std::make_unique<Candidate>(zk_.connect_string(), id));
  ASSERT_TRUE(WaitUntil([&] { return Leaders(cs).size() == 1; }));
  const int32_t first = Leaders(cs)[0];
  cs[static_cast<size_t>(first - 1)].reset();  // Its session closes: /controller goes.
  ASSERT_TRUE(WaitUntil([&] { return Leaders(cs).size() == 1; }));
  const int32_t second = Leaders(cs)[0];
  EXPECT_NE(second, first);
  EXPECT_EQ(cs[static_cast<size_t>(second - 1)]->election->epoch().epoch, 2);
  for (const auto& c : cs) {
    if (!c) continue;
    EXPECT_TRUE(WaitUntil([&] { return c->election->active_controller() == second; }));
  }
}

TEST_F(ControllerElectionTest, AControllerWhoseSessionExpiredResignsAndItsWritesAreFenced) {
  std::vector<std::unique_ptr<Candidate>> cs;
  for (int32_t id = 1; id <= 2; ++id) cs.push_back(std::make_unique<Candidate>(zk_.connect_string(), id));
  ASSERT_TRUE(WaitUntil([&] { return Leaders(cs).size() == 1; }));
  const int32_t first = Leaders(cs)[0];
  Candidate& old = *cs[static_cast<size_t>(first - 1)];
  const zk::ZkOp stale_check = old.election->EpochCheck();

  // Expire the controller's session at the server: as if the broker had
  // been cut off for its whole session timeout.
  std::shared_ptr<zk::ZkClient> client = old.session->client();
  ASSERT_TRUE(zk_.ExpireSession(client->session_id(), client->session_password(), [&] {
                   return client->state() == zk::SessionState::kExpired;
                 }).ok());
  client.reset();

  ASSERT_TRUE(WaitUntil([&] { return old.resigned.load() == 1; }));
  // Someone leads epoch 2: the other broker, or the old one on its new session.
  ASSERT_TRUE(WaitUntil([&] {
    auto leaders = Leaders(cs);
    return leaders.size() == 1 &&
           cs[static_cast<size_t>(leaders[0] - 1)]->election->epoch().epoch == 2;
  }));
  EXPECT_TRUE(WaitUntil([&] { return old.session->generation() == 2; }));
  EXPECT_EQ(old.resigned.load(), 1);
  // The old controller's epoch check no longer holds: its writes would fail.
  auto observer = Observer();
  zk::ZkError fenced =
      observer->Multi({stale_check, zk::ZkOp::Create("/brokers", "", zk::CreateMode::kPersistent)});
  EXPECT_EQ(fenced.code(), zk::ZkCode::kBadVersion);
  EXPECT_FALSE(observer->Exists("/brokers")->has_value());
}

TEST_F(ControllerElectionTest, AControllerThatShutsDownResignsAndRunsNoMore) {
  std::vector<std::unique_ptr<Candidate>> cs;
  for (int32_t id = 1; id <= 2; ++id) {
    cs.push_back(std::make_unique<Candidate>(zk_.connect_string(), id));
  }
  ASSERT_TRUE(WaitUntil([&] { return Leaders(cs).size() == 1; }));
  const int32_t first = Leaders(cs)[0];
  Candidate& old = *cs[static_cast<size_t>(first - 1)];
  old.election->Shutdown();
  ASSERT_TRUE(WaitUntil([&] { return old.resigned.load() == 1; }));
  EXPECT_FALSE(old.election->is_controller());
  // Its /controller goes with its session; the other broker takes over and
  // the one shut down does not run again.
  old.loop.Stop();
  old.session.reset();
  ASSERT_TRUE(WaitUntil([&] { return Leaders(cs).size() == 1 && Leaders(cs)[0] != first; }));
  EXPECT_EQ(old.elected.load(), 1);
}

}  // namespace
}  // namespace sluice::controller
