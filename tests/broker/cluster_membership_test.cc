// ClusterMembership in-process, against a real ZooKeeper: what its
// controller tells the injected ControllerChannel and its add/remove-broker
// hooks, as the controller moves from one broker to another, and the admin
// session ending with Leave.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "broker/cluster_membership.h"
#include "broker/zk_cluster_admin.h"
#include "config/broker_config.h"
#include "config/listener.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"

namespace sluice::broker {
namespace {

using testing::TempDir;
using testing::WaitUntil;
using testing::ZooKeeperEnsemble;

// Records what the controller sends and which brokers it is told to reach.
// Called on the controller's loop; read by the test.
class RecordingChannel final : public controller::ControllerChannel {
 public:
  void SendLeaderAndIsr(int32_t broker_id, controller::LeaderAndIsrRequest request) override {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(reachable_.contains(broker_id)) << "LeaderAndIsr to unknown broker " << broker_id;
    lai_.emplace_back(broker_id, std::move(request));
  }
  void SendUpdateMetadata(std::vector<int32_t> broker_ids,
                          controller::UpdateMetadataRequest) override {
    std::lock_guard lock(mu_);
    for (int32_t b : broker_ids) {
      EXPECT_TRUE(reachable_.contains(b)) << "UpdateMetadata to unknown broker " << b;
    }
    ++update_metadata_;
  }
  void SendStopReplica(int32_t, controller::StopReplicaRequest) override {}

  ControllerChannelHooks Hooks() {
    ControllerChannelHooks hooks;
    hooks.channel = this;
    hooks.add_broker = [this](const zk::BrokerRegistration& r) {
      std::lock_guard lock(mu_);
      EXPECT_FALSE(r.endpoints.empty());
      reachable_[r.id] = r;
      log_.push_back(fmt::format("+{}", r.id));
    };
    hooks.remove_broker = [this](int32_t id) {
      std::lock_guard lock(mu_);
      reachable_.erase(id);
      log_.push_back(fmt::format("-{}", id));
    };
    return hooks;
  }

  std::vector<int32_t> Reachable() {
    std::lock_guard lock(mu_);
    std::vector<int32_t> out;
    for (const auto& entry : reachable_) out.push_back(entry.first);
    return out;
  }
  std::vector<std::string> Log() {
    std::lock_guard lock(mu_);
    return log_;
  }
  // The LeaderAndIsr requests `broker` got (copies).
  std::vector<controller::LeaderAndIsrRequest> LeaderAndIsrTo(int32_t broker) {
    std::lock_guard lock(mu_);
    std::vector<controller::LeaderAndIsrRequest> out;
    for (const auto& [b, r] : lai_) {
      if (b == broker) out.push_back(r);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::map<int32_t, zk::BrokerRegistration> reachable_;
  std::vector<std::string> log_;
  std::vector<std::pair<int32_t, controller::LeaderAndIsrRequest>> lai_;
  int update_metadata_ = 0;
};

class ClusterMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(zk_.Start().ok()); }

  config::BrokerConfig Config(int32_t id) {
    auto c = config::BrokerConfig::Load(
        std::nullopt, {fmt::format("broker.id={}", id),
                       "log.dirs=" + (dir_.path() / fmt::format("b{}", id)).string(),
                       "zookeeper.connect=" + zk_.connect_string() + "/sluice",
                       "zookeeper.session.timeout.ms=3000"});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }

  // Connects and joins broker `id`, reporting to `channel`.
  std::unique_ptr<ClusterMembership> Join(const config::BrokerConfig& config,
                                          RecordingChannel* channel) {
    auto m = ClusterMembership::Connect(config);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return nullptr;
    (*m)->SetControllerChannel(channel->Hooks());
    auto listeners = config::ParseListenerSyntax(
        fmt::format("PLAINTEXT://127.0.0.1:{}", 9000 + config.broker_id()));
    EXPECT_TRUE(listeners.ok());
    Status joined = (*m)->Join(*listeners);
    EXPECT_TRUE(joined.ok()) << joined.ToString();
    return std::move(*m);
  }

  ZooKeeperEnsemble zk_{1};
  TempDir dir_;
};

bool HasPartition(const controller::LeaderAndIsrRequest& r, const std::string& topic) {
  return std::any_of(r.partitions.begin(), r.partitions.end(),
                     [&](const controller::PartitionLeaderInfo& p) { return p.topic == topic; });
}

TEST_F(ClusterMembershipTest, TheControllersChannelReachesTheLiveBrokersAndMovesWithIt) {
  const config::BrokerConfig config1 = Config(1), config2 = Config(2);
  RecordingChannel channel1, channel2;
  auto m1 = Join(config1, &channel1);
  ASSERT_NE(m1, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return m1->Current().controller_id == 1; }));
  auto m2 = Join(config2, &channel2);
  ASSERT_NE(m2, nullptr);

  // Broker 1 leads: its channel reaches both, broker 2's reaches none.
  ASSERT_TRUE(WaitUntil([&] { return channel1.Reachable() == std::vector<int32_t>{1, 2}; }));
  EXPECT_TRUE(channel2.Reachable().empty());
  // Each membership's own view of /brokers/ids comes from its own watch,
  // which may fire after the controller's.
  EXPECT_TRUE(WaitUntil([&] { return m1->LiveBrokers().size() == 2U; }));
  EXPECT_TRUE(WaitUntil([&] { return m2->LiveBrokers().size() == 2U; }));

  // A topic created through either broker's admin is decided by broker 1
  // and announced to both replicas as new partitions.
  ZkClusterAdmin admin2(m2.get(), config2);
  api::NewTopic topic;
  topic.name = "events";
  topic.partitions = 2;
  topic.replication_factor = 2;
  api::CreatedTopic created = admin2.CreateTopic(topic);
  ASSERT_TRUE(created.ok()) << created.message;
  for (int32_t b : {1, 2}) {
    ASSERT_TRUE(WaitUntil([&] {
      for (const auto& r : channel1.LeaderAndIsrTo(b)) {
        if (HasPartition(r, "events")) return r.partitions.front().is_new;
      }
      return false;
    })) << "broker " << b << " was not told of the new partitions";
  }

  // Broker 1 leaves: it resigns and its channel forgets everyone; broker 2
  // takes over, reaches itself, and tells itself everything it replicates.
  m1->Leave();
  EXPECT_TRUE(channel1.Reachable().empty());
  EXPECT_EQ(channel1.Log().back(), "-2");
  ASSERT_TRUE(WaitUntil([&] { return m2->Current().controller_id == 2; }));
  ASSERT_TRUE(WaitUntil([&] { return channel2.Reachable() == std::vector<int32_t>{2}; }));
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& r : channel2.LeaderAndIsrTo(2)) {
      if (r.full && HasPartition(r, "events")) return true;
    }
    return false;
  }));

  // After Leave the admin has no session: refused, not blocked.
  ZkClusterAdmin admin1(m1.get(), config1);
  topic.name = "late";
  api::CreatedTopic late = admin1.CreateTopic(topic);
  EXPECT_EQ(late.error, protocol::ErrorCode::UNKNOWN_SERVER_ERROR);
  EXPECT_EQ(m1->AdminZk(), nullptr);

  m2->Leave();
  EXPECT_TRUE(channel2.Reachable().empty());
}

TEST_F(ClusterMembershipTest, LeaveWaitsForAnAdminRequestHoldingTheSession) {
  const config::BrokerConfig config1 = Config(1);
  RecordingChannel channel;
  auto m = Join(config1, &channel);
  ASSERT_NE(m, nullptr);
  std::shared_ptr<zk::ZkClient> held = m->AdminZk();
  ASSERT_NE(held, nullptr);
  std::atomic<bool> left{false};
  std::thread leaving([&] {
    m->Leave();
    left = true;
  });
  // Leave stops handing the session out at once, and waits for this one.
  ASSERT_TRUE(WaitUntil([&] { return m->AdminZk() == nullptr; }));
  EXPECT_FALSE(left.load());
  EXPECT_TRUE(held->Exists("/").ok());  // Still usable meanwhile.
  held.reset();
  leaving.join();
  EXPECT_TRUE(left.load());
}

}  // namespace
}  // namespace sluice::broker
