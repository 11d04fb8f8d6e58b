// The controller's side of a controlled shutdown
// (PartitionStateMachine::ControlledShutdown) against a real ZooKeeper
// server, with a channel that records what the brokers would be told. The
// machine runs on its EventLoop as in the broker, and the live set is fed
// to it directly.
#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "base/mutex.h"
#include "controller/partition_state_machine.h"
#include "controller/topic_writer.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"

namespace sluice::controller {
namespace {

using testing::WaitUntil;
using testing::ZooKeeperEnsemble;

constexpr int32_t kControllerEpoch = 5;

// Keeps what was sent, per broker.
class ShutdownRecorder final : public ControllerChannel {
 public:
  void SendLeaderAndIsr(int32_t broker, LeaderAndIsrRequest request) override {
    MutexLock lock(&mu_);
    for (const auto& p : request.partitions) lai_[broker].push_back(p);
  }
  void SendUpdateMetadata(std::vector<int32_t>, UpdateMetadataRequest request) override {
    MutexLock lock(&mu_);
    for (const auto& p : request.partitions) um_.push_back(p);
  }
  void SendStopReplica(int32_t broker, StopReplicaRequest request) override {
    MutexLock lock(&mu_);
    for (const auto& p : request.partitions) stop_[broker].push_back(p);
  }
  std::map<int32_t, std::vector<PartitionLeaderInfo>> lai() const {
    MutexLock lock(&mu_);
    return lai_;
  }
  std::vector<PartitionLeaderInfo> um() const {
    MutexLock lock(&mu_);
    return um_;
  }
  std::map<int32_t, std::vector<StopReplicaPartition>> stop() const {
    MutexLock lock(&mu_);
    return stop_;
  }
  void Clear() {
    MutexLock lock(&mu_);
    lai_.clear();
    um_.clear();
    stop_.clear();
  }

 private:
  mutable Mutex mu_;
  std::map<int32_t, std::vector<PartitionLeaderInfo>> lai_ GUARDED_BY(mu_);
  std::vector<PartitionLeaderInfo> um_ GUARDED_BY(mu_);
  std::map<int32_t, std::vector<StopReplicaPartition>> stop_ GUARDED_BY(mu_);
};

std::map<int32_t, zk::BrokerRegistration> LiveBrokers(std::initializer_list<int32_t> ids) {
  std::map<int32_t, zk::BrokerRegistration> out;
  for (int32_t id : ids) {
    zk::BrokerRegistration b;
    b.id = id;
    b.endpoints = {"PLAINTEXT://127.0.0.1:" + std::to_string(19100 + id)};
    b.security_protocols = {{"PLAINTEXT", "PLAINTEXT"}};
    b.timestamp_ms = 2000 + id;
    out.emplace(id, b);
  }
  return out;
}

class ControlledShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok());
    observer_ = std::move(*c);
    // As if this broker had won the election of epoch kControllerEpoch (version 0).
    ASSERT_TRUE(observer_
                    ->Create(zk::kControllerEpochPath, zk::EncodeControllerEpoch(kControllerEpoch),
                             zk::CreateMode::kPersistent)
                    .ok());
    ZkSessionOptions so;
    so.zk.connect = zk_.connect_string();
    auto s = ZkSession::Open(std::move(so));
    ASSERT_TRUE(s.ok());
    session_ = std::move(*s);
    Make(/*unclean=*/false);
  }
  void TearDown() override {
    loop_.Stop();
    machine_.reset();
  }

  void Make(bool unclean) {
    PartitionStateMachineOptions options;
    options.broker_id = 1;
    options.unclean_leader_election = unclean;
    machine_ = std::make_unique<PartitionStateMachine>(session_.get(), &loop_, &channel_, options);
  }

  template <typename F>
  auto OnLoop(F f) {
    using R = std::invoke_result_t<F>;
    std::promise<R> done;
    auto future = done.get_future();
    loop_.Post([&] {
      if constexpr (std::is_void_v<R>) {
        f();
        done.set_value();
      } else {
        done.set_value(f());
      }
    });
    return future.get();
  }

  void Activate(std::map<int32_t, zk::BrokerRegistration> live) {
    Status s =
        OnLoop([&] { return machine_->Activate(ControllerEpoch{kControllerEpoch, 0}, live); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void BrokersChanged(std::map<int32_t, zk::BrokerRegistration> live) {
    OnLoop([&] { machine_->OnBrokersChanged(live); });
  }
  ControlledShutdownResult Shutdown(int32_t broker) {
    return OnLoop([&] { return machine_->ControlledShutdown(broker); });
  }
  AlterPartitionResult Alter(const AlterPartitionRequest& r) {
    return OnLoop([&] { return machine_->AlterPartition(r); });
  }

  // Creates the topic's znodes and waits until the controller has written
  // every partition's state and finished that event.
  void CreateTopic(const std::string& name, const ReplicaAssignment& a) {
    ASSERT_TRUE(CreateTopicZnodes(*observer_, name, a, {}, NewTopicUuid()).ok());
    ASSERT_TRUE(WaitUntil([&] {
      for (const auto& [p, replicas] : a) {
        if (!State(name, p)) return false;
      }
      return true;
    }));
    OnLoop([] {});
  }
  // The state znode and its version.
  std::optional<std::pair<zk::PartitionState, int32_t>> State(const std::string& topic, int32_t p) {
    auto node = observer_->Get(zk::PartitionStatePath(topic, p));
    if (!node.ok()) return std::nullopt;
    return std::make_pair(*zk::DecodePartitionState(node->data), node->stat.version);
  }

  ZooKeeperEnsemble zk_{1};
  std::unique_ptr<zk::ZkClient> observer_;
  std::unique_ptr<ZkSession> session_;
  ShutdownRecorder channel_;
  EventLoop loop_{"controller-test"};
  std::unique_ptr<PartitionStateMachine> machine_;
};

TEST_F(ControlledShutdownTest, LeadershipsMoveWithinTheIsrAndTheBrokerLeavesEveryIsr) {
  Activate(LiveBrokers({1, 2, 3}));
  CreateTopic("t", {{0, {2, 1, 3}}, {1, {1, 2, 3}}, {2, {3, 1}}});
  CreateTopic("solo", {{0, {2}}});
  ASSERT_EQ(State("t", 0)->first.leader, 2);
  channel_.Clear();

  ControlledShutdownResult r = Shutdown(2);
  ASSERT_EQ(r.error, ControlledShutdownError::kNone);
  // Replication factor 1: nobody to take over.
  EXPECT_EQ(r.remaining, (std::vector<TopicPartition>{{"solo", 0}}));
  // Led by 2: the next ISR member in assignment order, epoch + 1, 2 out.
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 1, kControllerEpoch, {1, 3}}, 1));
  // Followed by 2: out of the ISR, epoch + 1 so that the leader applies it.
  EXPECT_EQ(*State("t", 1), std::make_pair(zk::PartitionState{1, 1, kControllerEpoch, {1, 3}}, 1));
  EXPECT_EQ(State("t", 2)->second, 0);     // Not 2's.
  EXPECT_EQ(State("solo", 0)->second, 0);  // Kept as it is.
  EXPECT_EQ(OnLoop([&] { return machine_->shutting_down(); }), (std::set<int32_t>{2}));

  // Every live replica hears of its changed partitions, 2 included (it
  // becomes a follower of t-0), and everyone gets the new metadata.
  const auto lai = channel_.lai();
  for (int32_t b : {1, 2, 3}) {
    std::set<TopicPartition> told;
    for (const auto& p : lai.at(b)) {
      told.insert({p.topic, p.partition});
      EXPECT_EQ(p.leader, 1);
      EXPECT_EQ(p.leader_epoch, 1);
    }
    EXPECT_EQ(told, (std::set<TopicPartition>{{"t", 0}, {"t", 1}})) << "broker " << b;
  }
  std::set<TopicPartition> updated;
  for (const auto& p : channel_.um()) updated.insert({p.topic, p.partition});
  EXPECT_EQ(updated, (std::set<TopicPartition>{{"t", 0}, {"t", 1}}));
  // 2 stops fetching what it no longer leads, and keeps the logs.
  const auto stop = channel_.stop();
  ASSERT_EQ(stop.size(), 1u);
  std::set<TopicPartition> stopped;
  for (const auto& p : stop.at(2)) {
    stopped.insert({p.topic, p.partition});
    EXPECT_FALSE(p.delete_partition);
    EXPECT_EQ(p.leader_epoch, 1);
  }
  EXPECT_EQ(stopped, (std::set<TopicPartition>{{"t", 0}, {"t", 1}}));

  // Asked again (the broker retries while it still leads something):
  // nothing more to write.
  EXPECT_EQ(Shutdown(2).remaining, (std::vector<TopicPartition>{{"solo", 0}}));
  EXPECT_EQ(State("t", 0)->second, 1);
  EXPECT_EQ(State("t", 1)->second, 1);
}

TEST_F(ControlledShutdownTest, ARetryHandsOverOnceAFollowerIsInTheIsr) {
  Activate(LiveBrokers({1, 2}));
  CreateTopic("t", {{0, {2, 3}}});
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{2, 0, kControllerEpoch, {2}}));
  BrokersChanged(LiveBrokers({1, 2, 3}));  // 3 comes, not in the ISR yet.

  ControlledShutdownResult first = Shutdown(2);
  ASSERT_EQ(first.error, ControlledShutdownError::kNone);
  EXPECT_EQ(first.remaining, (std::vector<TopicPartition>{{"t", 0}}));
  EXPECT_EQ(State("t", 0)->second, 0);

  // 3 caught up: the leader (still 2) adds it, which is allowed; the one
  // shutting down may stay in the ISR.
  ASSERT_EQ(Alter({2, "t", 0, 0, 0, {2, 3}}).error, AlterPartitionError::kNone);
  ControlledShutdownResult second = Shutdown(2);
  ASSERT_EQ(second.error, ControlledShutdownError::kNone);
  EXPECT_TRUE(second.remaining.empty());
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{3, 1, kControllerEpoch, {3}}));
}

TEST_F(ControlledShutdownTest, ABrokerShuttingDownIsNeverElectedNorAddedToAnIsr) {
  Make(/*unclean=*/true);
  Activate(LiveBrokers({1, 2, 3}));
  CreateTopic("t", {{0, {1, 2}}, {1, {3, 2, 1}}});
  ASSERT_EQ(Shutdown(2).error, ControlledShutdownError::kNone);
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 1, kControllerEpoch, {1}}, 1));
  EXPECT_EQ(*State("t", 1), std::make_pair(zk::PartitionState{3, 1, kControllerEpoch, {3, 1}}, 1));

  // The leader may not add it back to the ISR.
  EXPECT_EQ(Alter({1, "t", 0, 1, 1, {1, 2}}).error, AlterPartitionError::kIneligibleReplica);
  EXPECT_EQ(Alter({3, "t", 1, 1, 1, {3, 1, 2}}).error, AlterPartitionError::kIneligibleReplica);
  // A new partition leaves it out of leadership and ISR.
  CreateTopic("n", {{0, {2, 3, 1}}});
  EXPECT_EQ(State("n", 0)->first, (zk::PartitionState{3, 0, kControllerEpoch, {3, 1}}));
  // Its preferred leadership is not given back.
  auto preferred = OnLoop([&] { return machine_->ElectPreferredLeaders({{"n", 0}}); });
  EXPECT_EQ(preferred.at({"n", 0}), ElectionError::kPreferredLeaderNotAvailable);
  // Not even an unclean election picks it: t-0 goes offline when 1 dies.
  BrokersChanged(LiveBrokers({2, 3}));
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{-1, 2, kControllerEpoch, {1}}));

  // Restarted (registered again), it is an ordinary broker: now the unclean
  // election may pick it.
  auto restarted = LiveBrokers({2, 3});
  restarted.at(2).timestamp_ms += 1;
  BrokersChanged(restarted);
  EXPECT_TRUE(OnLoop([&] { return machine_->shutting_down(); }).empty());
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{2, 3, kControllerEpoch, {2}}));
}

// ElectLeaders' unclean election and the automatic preferred-leader
// rebalance pass over it too.
TEST_F(ControlledShutdownTest, OnDemandElectionsPassOverABrokerShuttingDown) {
  Activate(LiveBrokers({1, 2, 3}));
  CreateTopic("u", {{0, {1, 2}}});
  CreateTopic("p", {{0, {2, 3}}});
  ASSERT_EQ(Shutdown(2).error, ControlledShutdownError::kNone);
  EXPECT_EQ(State("u", 0)->first, (zk::PartitionState{1, 1, kControllerEpoch, {1}}));
  EXPECT_EQ(State("p", 0)->first, (zk::PartitionState{3, 1, kControllerEpoch, {3}}));
  BrokersChanged(LiveBrokers({2, 3}));  // u-0 goes offline: 2 is not in its ISR.
  ASSERT_EQ(State("u", 0)->first.leader, -1);
  auto unclean = OnLoop([&] { return machine_->ElectUncleanLeaders({{"u", 0}}); });
  EXPECT_EQ(unclean.at({"u", 0}), ElectionError::kEligibleLeadersNotAvailable);
  EXPECT_EQ(State("u", 0)->first.leader, -1);
  // p-0's preferred replica is 2: every partition 2 prefers is led
  // elsewhere, yet it is given none back.
  EXPECT_TRUE(OnLoop([&] { return machine_->RebalancePreferredLeaders(0); }).empty());
  EXPECT_EQ(State("p", 0)->first.leader, 3);
}

TEST_F(ControlledShutdownTest, OnlyTheActiveControllerAnswersForLiveBrokers) {
  EXPECT_EQ(Shutdown(2).error, ControlledShutdownError::kNotController);
  Activate(LiveBrokers({1, 2}));
  EXPECT_EQ(Shutdown(3).error, ControlledShutdownError::kBrokerNotAvailable);
  // A broker that leaves the live set is no longer shutting down.
  ASSERT_EQ(Shutdown(2).error, ControlledShutdownError::kNone);
  BrokersChanged(LiveBrokers({1}));
  EXPECT_TRUE(OnLoop([&] { return machine_->shutting_down(); }).empty());
  OnLoop([&] { machine_->Deactivate(); });
  EXPECT_EQ(Shutdown(1).error, ControlledShutdownError::kNotController);
}

}  // namespace
}  // namespace sluice::controller
