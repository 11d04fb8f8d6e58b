// ConfigWatcher and controller::ChangeTopicConfig in-process, against a
// real ZooKeeper: the writer's conditional read-modify-write and its
// notification, the watcher applying what the notifications name (to the
// hosted topics only), re-reading every hosted topic after a new session,
// and purging old notifications. Every wait is on a recorded apply or on
// ZooKeeper state.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "broker/config_watcher.h"
#include "controller/config_writer.h"
#include "controller/event_loop.h"
#include "controller/topic_id.h"
#include "controller/topic_writer.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::broker {
namespace {

using Overrides = std::map<std::string, std::string>;
using testing::WaitUntil;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the watcher was told to apply, and the topics it may apply to.
class Recorder {
 public:
  void Host(std::set<std::string> topics) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    hosted_ = std::move(topics);
  }
  std::vector<std::string> Hosted() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return {hosted_.begin(), hosted_.end()};
  }
  Status Apply(const std::string& topic, const Overrides& overrides) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (!hosted_.contains(topic)) return Status::NotFound(topic);
    applied_[topic].push_back(overrides);
    return Status::Ok();
  }
  // Every config applied to `topic`, in order.
  std::vector<Overrides> Applied(const std::string& topic) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    auto it = applied_.find(topic);
    return it == applied_.end() ? std::vector<Overrides>{} : it->second;
  }
  bool LastIs(const std::string& topic, const Overrides& overrides) EXCLUDES(mu_) {
    auto all = Applied(topic);
    return !all.empty() && all.back() == overrides;
  }

 private:
  Mutex mu_;
  std::set<std::string> hosted_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<Overrides>> applied_ GUARDED_BY(mu_);
};

class ConfigWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensemble_.Start().ok());
    zk::ZkOptions o;
    o.connect = ensemble_.connect_string() + "/watcher";
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    zk_ = std::move(*c);
    for (const char* t : {"a", "b"}) {
      ASSERT_TRUE(controller::CreateTopicZnodes(*zk_, t, {{0, {1}}}, {},
                                                controller::NewTopicUuid())
                      .ok());
    }
  }
  void TearDown() override {
    if (watcher_) watcher_->Stop();
    loop_.Stop();
  }

  // `clock_ahead_ms`: how far the watcher's clock runs ahead of the
  // ZooKeeper server's (to age notifications without waiting).
  void StartWatcher(int64_t purge_after_ms = 15 * 60 * 1000, int64_t clock_ahead_ms = 0) {
    ConfigWatcherOptions o;
    o.zk = [this] { return zk_; };
    o.run = [this](std::function<void()> task) { loop_.Post(std::move(task)); };
    o.hosted_topics = [this] { return recorder_.Hosted(); };
    o.apply = [this](const std::string& topic, const Overrides& overrides) {
      return recorder_.Apply(topic, overrides);
    };
    o.clock = [clock_ahead_ms] { return WallMs() + clock_ahead_ms; };
    o.purge_after_ms = purge_after_ms;
    o.broker_id = 1;
    o.apply_broker = [this](const Overrides& own, const Overrides& defaults) {
      MutexLock lock(&broker_mu_);
      broker_applied_.emplace_back(own, defaults);
    };
    watcher_ = std::make_unique<ConfigWatcher>(std::move(o));
    watcher_->Start();
  }

  // What apply_broker was given, in order: (this broker's, the defaults).
  std::vector<std::pair<Overrides, Overrides>> BrokerApplied() EXCLUDES(broker_mu_) {
    MutexLock lock(&broker_mu_);
    return broker_applied_;
  }
  Status SetBroker(const std::string& entity, const std::string& key, const std::string& value) {
    return controller::ChangeBrokerConfig(
               *zk_, entity,
               [&](Overrides& overrides) {
                 overrides[key] = value;
                 return Status::Ok();
               },
               /*validate_only=*/false)
        .status();
  }

  // Sets `key`=`value` in `topic`'s overrides through the writer.
  Status Set(const std::string& topic, const std::string& key, const std::string& value) {
    return controller::ChangeTopicConfig(
               *zk_, topic,
               [&](Overrides& overrides) {
                 overrides[key] = value;
                 return Status::Ok();
               },
               /*validate_only=*/false)
        .status();
  }

  std::vector<std::string> Changes() {
    auto children = zk_->GetChildren(zk::kConfigChangesPath);
    return children.ok() ? *children : std::vector<std::string>{};
  }
  Overrides Stored(const std::string& topic) {
    auto node = zk_->Get(zk::TopicConfigPath(topic));
    return node.ok() ? zk::DecodeTopicConfig(node->data).value() : Overrides{};
  }

  testing::ZooKeeperEnsemble ensemble_;
  std::shared_ptr<zk::ZkClient> zk_;
  controller::EventLoop loop_{"config-watcher-test"};
  Recorder recorder_;
  Mutex broker_mu_;
  std::vector<std::pair<Overrides, Overrides>> broker_applied_ GUARDED_BY(broker_mu_);
  std::unique_ptr<ConfigWatcher> watcher_;
};

TEST_F(ConfigWatcherTest, TheWriterEditsTheStoredMapAndNotifies) {
  ASSERT_TRUE(Set("a", "retention.ms", "5").ok());
  ASSERT_TRUE(Set("a", "segment.ms", "7").ok());
  EXPECT_EQ((Overrides{{"retention.ms", "5"}, {"segment.ms", "7"}}), Stored("a"));
  std::vector<std::string> changes = Changes();
  ASSERT_EQ(2u, changes.size());
  auto node = zk_->Get(std::string(zk::kConfigChangesPath) + "/" + changes.back());
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((zk::ConfigChange{"topics", "a"}), zk::DecodeConfigChange(node->data).value());

  // validate_only, a refused edit and an unknown topic write nothing.
  auto checked = controller::ChangeTopicConfig(
      *zk_, "a", [](Overrides& o) { o["retention.ms"] = "1"; return Status::Ok(); }, true);
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ("1", checked->at("retention.ms"));
  auto refused = controller::ChangeTopicConfig(
      *zk_, "a", [](Overrides&) { return Status::InvalidArgument("no"); }, false);
  EXPECT_EQ(StatusCode::kInvalidArgument, refused.status().code());
  EXPECT_TRUE(Set("absent", "retention.ms", "1").IsNotFound());
  EXPECT_EQ((Overrides{{"retention.ms", "5"}, {"segment.ms", "7"}}), Stored("a"));
  EXPECT_EQ(2u, Changes().size());

  // Another writer between the read and the write: the edit runs again on
  // its result, and neither change is lost.
  int runs = 0;
  auto raced = controller::ChangeTopicConfig(
      *zk_, "a",
      [&](Overrides& o) {
        if (++runs == 1) {
          EXPECT_TRUE(Set("a", "cleanup.policy", "compact").ok());
        }
        o["max.message.bytes"] = "1000";
        return Status::Ok();
      },
      false);
  ASSERT_TRUE(raced.ok()) << raced.status().ToString();
  EXPECT_EQ(2, runs);
  EXPECT_EQ((Overrides{{"cleanup.policy", "compact"},
                       {"max.message.bytes", "1000"},
                       {"retention.ms", "5"},
                       {"segment.ms", "7"}}),
            Stored("a"));
}

TEST_F(ConfigWatcherTest, NotificationsReachTheHostedTopicsOnly) {
  recorder_.Host({"a"});
  StartWatcher();
  // Start reads every hosted topic's config.
  ASSERT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {}); }));

  ASSERT_TRUE(Set("a", "retention.ms", "5").ok());
  EXPECT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {{"retention.ms", "5"}}); }));
  // "b" is not hosted here: its notification, processed before a's next
  // one, applies nothing.
  ASSERT_TRUE(Set("b", "retention.ms", "6").ok());
  ASSERT_TRUE(Set("a", "retention.ms", "8").ok());
  EXPECT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {{"retention.ms", "8"}}); }));
  EXPECT_TRUE(recorder_.Applied("b").empty());
  // Each notification applied once, in order (the initial read first).
  EXPECT_EQ((std::vector<Overrides>{{}, {{"retention.ms", "5"}}, {{"retention.ms", "8"}}}),
            recorder_.Applied("a"));
}

TEST_F(ConfigWatcherTest, ThisBrokersAndTheDefaultBrokerConfigsAreAppliedOthersAreNot) {
  StartWatcher();
  // Start reads them once (none yet).
  ASSERT_TRUE(WaitUntil([&] { return BrokerApplied().size() == 1; }));
  EXPECT_EQ(BrokerApplied()[0], (std::pair<Overrides, Overrides>{}));

  ASSERT_TRUE(SetBroker(zk::kDefaultBrokerEntity, "follower.replication.throttled.rate", "100").ok());
  ASSERT_TRUE(WaitUntil([&] { return BrokerApplied().size() == 2; }));
  EXPECT_EQ(BrokerApplied()[1].second, (Overrides{{"follower.replication.throttled.rate", "100"}}));
  ASSERT_TRUE(SetBroker("1", "leader.replication.throttled.rate", "7").ok());
  ASSERT_TRUE(WaitUntil([&] { return BrokerApplied().size() == 3; }));
  EXPECT_EQ(BrokerApplied()[2].first, (Overrides{{"leader.replication.throttled.rate", "7"}}));
  EXPECT_EQ(BrokerApplied()[2].second, (Overrides{{"follower.replication.throttled.rate", "100"}}));

  // Broker 2's change is not this broker's: nothing is applied for it. A
  // topic change after it proves the notification was read meanwhile.
  recorder_.Host({"a"});
  ASSERT_TRUE(SetBroker("2", "leader.replication.throttled.rate", "9").ok());
  ASSERT_TRUE(Set("a", "retention.ms", "1000").ok());
  ASSERT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {{"retention.ms", "1000"}}); }));
  EXPECT_EQ(BrokerApplied().size(), 3u);
}

TEST_F(ConfigWatcherTest, ANewSessionRereadsEveryHostedTopic) {
  recorder_.Host({"a", "b"});
  StartWatcher();
  ASSERT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {}) && recorder_.LastIs("b", {}); }));
  // A change whose notification this broker never saw (it came while its
  // session was expired and has been purged since).
  auto node = zk_->Get(zk::TopicConfigPath("b"));
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE(zk_->Set(zk::TopicConfigPath("b"), zk::EncodeTopicConfig({{"retention.ms", "9"}}),
                       node->stat.version)
                  .ok());
  watcher_->OnNewSession();
  EXPECT_TRUE(WaitUntil([&] { return recorder_.LastIs("b", {{"retention.ms", "9"}}); }));
  EXPECT_TRUE(recorder_.LastIs("a", {}));
}

TEST_F(ConfigWatcherTest, OldNotificationsArePurged) {
  recorder_.Host({"a"});
  // Every notification is older than that at once.
  StartWatcher(/*purge_after_ms=*/60000, /*clock_ahead_ms=*/120000);
  ASSERT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {}); }));
  ASSERT_TRUE(Set("a", "retention.ms", "5").ok());
  EXPECT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {{"retention.ms", "5"}}); }));
  EXPECT_TRUE(WaitUntil([&] { return Changes().empty(); }));
  // The sequence goes on past the purged ones: the next change is seen.
  ASSERT_TRUE(Set("a", "retention.ms", "6").ok());
  EXPECT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {{"retention.ms", "6"}}); }));
}

TEST_F(ConfigWatcherTest, AStoppedWatcherAppliesNothing) {
  recorder_.Host({"a"});
  StartWatcher();
  ASSERT_TRUE(WaitUntil([&] { return recorder_.LastIs("a", {}); }));
  watcher_->Stop();
  ASSERT_TRUE(Set("a", "retention.ms", "5").ok());
  // Whatever the loop still runs comes before this marker.
  std::atomic<bool> drained{false};
  loop_.Post([&] { drained = true; });
  ASSERT_TRUE(WaitUntil([&] { return drained.load(); }));
  EXPECT_EQ(1u, recorder_.Applied("a").size());
}

}  // namespace
}  // namespace sluice::broker
