// The partition state machine against a real ZooKeeper server, with a
// channel that records what the brokers would have been told. The machine
// runs on its EventLoop as in the broker; the live broker set is fed to it
// directly (BrokerRegistry's part is tested on its own).
#include "controller/partition_state_machine.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <type_traits>

#include <gtest/gtest.h>

#include "base/mutex.h"
#include "controller/topic_writer.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"

namespace sluice::controller {
namespace {

using testing::WaitUntil;
using testing::ZooKeeperEnsemble;

class RecordingChannel : public ControllerChannel {
 public:
  struct LeaderAndIsr {
    int32_t broker;
    LeaderAndIsrRequest request;
  };
  struct UpdateMetadata {
    std::vector<int32_t> brokers;
    UpdateMetadataRequest request;
  };
  struct StopReplica {
    int32_t broker;
    StopReplicaRequest request;
  };

  void SendLeaderAndIsr(int32_t broker_id, LeaderAndIsrRequest request) override {
    MutexLock lock(&mu_);
    lai_.push_back({broker_id, std::move(request)});
  }
  void SendUpdateMetadata(std::vector<int32_t> broker_ids, UpdateMetadataRequest request) override {
    MutexLock lock(&mu_);
    um_.push_back({std::move(broker_ids), std::move(request)});
  }
  void SendStopReplica(int32_t broker_id, StopReplicaRequest request) override {
    MutexLock lock(&mu_);
    stop_.push_back({broker_id, std::move(request)});
  }

  std::vector<LeaderAndIsr> lai() const {
    MutexLock lock(&mu_);
    return lai_;
  }
  std::vector<UpdateMetadata> um() const {
    MutexLock lock(&mu_);
    return um_;
  }
  std::vector<StopReplica> stop() const {
    MutexLock lock(&mu_);
    return stop_;
  }
  size_t total() const {
    MutexLock lock(&mu_);
    return lai_.size() + um_.size() + stop_.size();
  }
  void Clear() {
    MutexLock lock(&mu_);
    lai_.clear();
    um_.clear();
    stop_.clear();
  }
  // The brokers that were sent a LeaderAndIsr naming topic-partition.
  std::set<int32_t> LeaderAndIsrRecipients(const std::string& topic, int32_t partition) const {
    std::set<int32_t> out;
    for (const auto& l : lai()) {
      for (const auto& p : l.request.partitions) {
        if (p.topic == topic && p.partition == partition) out.insert(l.broker);
      }
    }
    return out;
  }

 private:
  mutable Mutex mu_;
  std::vector<LeaderAndIsr> lai_ GUARDED_BY(mu_);
  std::vector<UpdateMetadata> um_ GUARDED_BY(mu_);
  std::vector<StopReplica> stop_ GUARDED_BY(mu_);
};

std::map<int32_t, zk::BrokerRegistration> Live(std::initializer_list<int32_t> ids) {
  std::map<int32_t, zk::BrokerRegistration> out;
  for (int32_t id : ids) {
    zk::BrokerRegistration b;
    b.id = id;
    b.endpoints = {"PLAINTEXT://127.0.0.1:" + std::to_string(19000 + id)};
    b.security_protocols = {{"PLAINTEXT", "PLAINTEXT"}};
    b.timestamp_ms = 1000 + id;
    out.emplace(id, b);
  }
  return out;
}

constexpr int32_t kEpoch = 3;

class PartitionStateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok());
    observer_ = std::move(*c);
    // As if this broker's election had won epoch 3 (version 0 of the node).
    ASSERT_TRUE(observer_->Create(zk::kControllerEpochPath, zk::EncodeControllerEpoch(kEpoch),
                                  zk::CreateMode::kPersistent).ok());
    ZkSessionOptions so;
    so.zk.connect = zk_.connect_string();
    auto s = ZkSession::Open(std::move(so));
    ASSERT_TRUE(s.ok());
    session_ = std::move(*s);
    MakeMachine(false);
  }
  void TearDown() override {
    loop_.Stop();  // The machine lives on the loop: stop it first.
    machine_.reset();
  }

  void MakeMachine(bool unclean) {
    PartitionStateMachineOptions options;
    options.broker_id = 1;
    options.unclean_leader_election = unclean;
    machine_ = std::make_unique<PartitionStateMachine>(session_.get(), &loop_, &channel_, options);
  }

  // Runs `f` on the machine's loop and returns what it returns.
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
    Status s = OnLoop([&] { return machine_->Activate(ControllerEpoch{kEpoch, 0}, live); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void BrokersChanged(std::map<int32_t, zk::BrokerRegistration> live) {
    OnLoop([&] { machine_->OnBrokersChanged(live); });
  }

  void CreateTopic(const std::string& name, const ReplicaAssignment& a) {
    ASSERT_TRUE(CreateTopicZnodes(*observer_, name, a, {}, NewTopicUuid()).ok());
  }
  // The state znode: state and version, or nullopt.
  std::optional<std::pair<zk::PartitionState, int32_t>> State(const std::string& topic,
                                                              int32_t p) {
    auto node = observer_->Get(zk::PartitionStatePath(topic, p));
    if (!node.ok()) return std::nullopt;
    return std::make_pair(*zk::DecodePartitionState(node->data), node->stat.version);
  }
  // Waits until the partitions' states are written and the event that wrote
  // them has finished (sent its requests).
  bool WaitForStates(const std::string& topic, int32_t partitions) {
    const bool written = WaitUntil([&] {
      for (int32_t p = 0; p < partitions; ++p) {
        if (!State(topic, p)) return false;
      }
      return true;
    });
    OnLoop([] {});
    return written;
  }

  ZooKeeperEnsemble zk_{1};
  std::unique_ptr<zk::ZkClient> observer_;
  std::unique_ptr<ZkSession> session_;
  RecordingChannel channel_;
  EventLoop loop_{"controller-test"};
  std::unique_ptr<PartitionStateMachine> machine_;
};

TEST_F(PartitionStateMachineTest, ANewTopicGetsItsLeadersAndIsrsSpreadEvenly) {
  Activate(Live({1, 2, 3}));
  std::vector<BrokerPlacement> brokers = {{1, {}}, {2, {}}, {3, {}}};
  auto assignment = AssignReplicas(brokers, 6, 3, SeededRandomIndex(5));
  ASSERT_TRUE(assignment.ok());
  channel_.Clear();
  CreateTopic("events", *assignment);
  ASSERT_TRUE(WaitForStates("events", 6));
  std::map<int32_t, int> leaders;
  for (int32_t p = 0; p < 6; ++p) {
    auto [s, version] = *State("events", p);
    const auto& replicas = assignment->at(p);
    EXPECT_EQ(s, (zk::PartitionState{replicas.front(), 0, kEpoch, replicas})) << p;
    EXPECT_EQ(version, 0);
    ++leaders[s.leader];
  }
  EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  // Every broker is told of each of its new replicas, as new.
  ASSERT_EQ(channel_.um().size(), 1u);
  for (const auto& l : channel_.lai()) {
    EXPECT_EQ(l.request.controller_epoch, kEpoch);
    EXPECT_EQ(l.request.controller_id, 1);
    EXPECT_EQ(l.request.partitions.size(), 6u);
    for (const auto& p : l.request.partitions) {
      EXPECT_TRUE(p.is_new);
      EXPECT_NE(p.topic_id, kNoTopicUuid);
    }
  }
  EXPECT_EQ(channel_.lai().size(), 3u);
  const auto um = channel_.um().front();
  EXPECT_EQ(um.brokers, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(um.request.partitions.size(), 6u);
  EXPECT_EQ(um.request.live_brokers.size(), 3u);
  EXPECT_EQ(machine_->partition({"events", 0}).value_or(PartitionModel{}).version, 0);
}

TEST_F(PartitionStateMachineTest, ActivationInitializesNewPartitionsAndElectsForDeadLeaders) {
  CreateTopic("old", {{0, {1, 2}}});
  ASSERT_TRUE(observer_->CreateRecursive(zk::PartitionStatePath("old", 0),
                                         zk::EncodePartitionState({1, 4, 2, {1, 2}})).ok());
  CreateTopic("fresh", {{0, {3, 2}}, {1, {1, 3}}});
  Activate(Live({2, 3}));
  auto old = State("old", 0);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->first, (zk::PartitionState{2, 5, kEpoch, {2}}));
  EXPECT_EQ(old->second, 1);
  EXPECT_EQ(State("fresh", 0)->first, (zk::PartitionState{3, 0, kEpoch, {3, 2}}));
  EXPECT_EQ(State("fresh", 1)->first, (zk::PartitionState{3, 0, kEpoch, {3}}));
  // Every live broker: a full LeaderAndIsr and a full UpdateMetadata.
  std::set<int32_t> full;
  for (const auto& l : channel_.lai()) {
    if (l.request.full) full.insert(l.broker);
  }
  EXPECT_EQ(full, (std::set<int32_t>{2, 3}));
  bool full_um = false;
  for (const auto& u : channel_.um()) {
    if (u.request.partitions.size() == 3) full_um = true;
  }
  EXPECT_TRUE(full_um);
}

TEST_F(PartitionStateMachineTest, ALeadersDeathMovesLeadershipWithinTheIsr) {
  Activate(Live({1, 2, 3}));
  CreateTopic("t", {{0, {1, 2, 3}}, {1, {2, 3, 1}}});
  ASSERT_TRUE(WaitForStates("t", 2));
  channel_.Clear();
  BrokersChanged(Live({2, 3}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{2, 1, kEpoch, {2, 3}}, 1));
  // Partition 1's leader lived; its follower 1 left the ISR.
  EXPECT_EQ(*State("t", 1), std::make_pair(zk::PartitionState{2, 1, kEpoch, {2, 3}}, 1));
  EXPECT_EQ(channel_.LeaderAndIsrRecipients("t", 0), (std::set<int32_t>{2, 3}));
  for (const auto& l : channel_.lai()) {
    for (const auto& p : l.request.partitions) {
      EXPECT_EQ(p.leader, 2);
      EXPECT_EQ(p.leader_epoch, 1);
      EXPECT_EQ(p.partition_epoch, 1);
      EXPECT_FALSE(p.is_new);
    }
    ASSERT_EQ(l.request.live_leaders.size(), 1u);
    EXPECT_EQ(l.request.live_leaders[0].id, 2);
  }
  ASSERT_FALSE(channel_.um().empty());
  for (const auto& u : channel_.um()) {
    EXPECT_EQ(u.brokers, (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(u.request.live_brokers.size(), 2u);
    for (const auto& p : u.request.partitions) {
      EXPECT_EQ(p.offline_replicas, std::vector<int32_t>{1});
    }
  }
}

TEST_F(PartitionStateMachineTest, AFollowersDeathShrinksTheIsr) {
  Activate(Live({1, 2, 3}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  BrokersChanged(Live({1, 2}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 1, kEpoch, {1, 2}}, 1));
}

TEST_F(PartitionStateMachineTest, APartitionGoesOfflineAndComesBackWithItsIsr) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  BrokersChanged(Live({1}));
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{1, 1, kEpoch, {1}}));
  BrokersChanged(Live({}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{-1, 2, kEpoch, {1}}, 2));
  // Broker 2 is not in the ISR: it may not lead (clean election).
  BrokersChanged(Live({2}));
  EXPECT_EQ(State("t", 0)->second, 2);
  channel_.Clear();
  BrokersChanged(Live({1, 2}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 3, kEpoch, {1}}, 3));
  // The returning broker gets the full picture.
  bool full_to_1 = false;
  for (const auto& l : channel_.lai()) full_to_1 |= l.broker == 1 && l.request.full;
  EXPECT_TRUE(full_to_1);
  bool full_um_to_1 = false;
  for (const auto& u : channel_.um()) {
    full_um_to_1 |= u.brokers == std::vector<int32_t>{1} && u.request.partitions.size() == 1;
  }
  EXPECT_TRUE(full_um_to_1);
}

TEST_F(PartitionStateMachineTest, UncleanElectionLetsAReplicaOutsideTheIsrLead) {
  MakeMachine(/*unclean=*/true);
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  BrokersChanged(Live({1}));
  BrokersChanged(Live({}));
  BrokersChanged(Live({2}));
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{2, 3, kEpoch, {2}}));
}

TEST_F(PartitionStateMachineTest, ANewPartitionWithoutALiveReplicaWaitsForOne) {
  Activate(Live({1}));
  CreateTopic("t", {{0, {2, 3}}});
  ASSERT_TRUE(WaitUntil([&] {
    return OnLoop([&] { return machine_->partition({"t", 0}).has_value(); });
  }));
  EXPECT_FALSE(State("t", 0));
  BrokersChanged(Live({1, 3}));
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{3, 0, kEpoch, {3}}));
}

TEST_F(PartitionStateMachineTest, AddedPartitionsGetStates) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  std::vector<BrokerPlacement> brokers = {{1, {}}, {2, {}}};
  ASSERT_TRUE(AddPartitions(*observer_, "t", 3, brokers, std::nullopt).ok());
  ASSERT_TRUE(WaitForStates("t", 3));
  EXPECT_EQ(State("t", 2)->first.leader_epoch, 0);
  EXPECT_EQ(State("t", 0)->second, 0);  // Untouched.
}

TEST_F(PartitionStateMachineTest, AlterPartitionChecksTheLeaderTheVersionAndTheMembers) {
  Activate(Live({1, 2, 3}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  auto alter = [&](int32_t broker, int32_t leader_epoch, int32_t version,
                   std::vector<int32_t> isr, const std::string& topic = "t") {
    return OnLoop([&] {
      return machine_->AlterPartition({broker, topic, 0, leader_epoch, version, isr});
    });
  };
  channel_.Clear();
  AlterPartitionResult shrink = alter(1, 0, 0, {1, 2});
  ASSERT_EQ(shrink.error, AlterPartitionError::kNone);
  EXPECT_EQ(shrink.state, (zk::PartitionState{1, 0, kEpoch, {1, 2}}));  // Leader epoch stays.
  EXPECT_EQ(shrink.partition_epoch, 1);
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 0, kEpoch, {1, 2}}, 1));
  ASSERT_EQ(channel_.um().size(), 1u);  // Everyone hears; no LeaderAndIsr.
  EXPECT_EQ(channel_.um()[0].request.partitions[0].isr, (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(channel_.lai().empty());

  EXPECT_EQ(alter(1, 1, 1, {1}).error, AlterPartitionError::kFencedLeaderEpoch);
  EXPECT_EQ(alter(2, 0, 1, {1, 2, 3}).error, AlterPartitionError::kFencedLeaderEpoch);
  EXPECT_EQ(alter(1, 0, 0, {1}).error, AlterPartitionError::kInvalidUpdateVersion);
  // The same change again (its answer lost): the current state.
  AlterPartitionResult again = alter(1, 0, 0, {1, 2});
  EXPECT_EQ(again.error, AlterPartitionError::kNone);
  EXPECT_EQ(again.partition_epoch, 1);
  EXPECT_EQ(alter(1, 0, 1, {1, 2, 4}).error, AlterPartitionError::kInvalidRequest);
  EXPECT_EQ(alter(1, 0, 1, {2, 3}).error, AlterPartitionError::kInvalidRequest);
  EXPECT_EQ(alter(1, 0, 1, {}).error, AlterPartitionError::kInvalidRequest);
  EXPECT_EQ(alter(1, 0, 1, {1, 2}, "none").error, AlterPartitionError::kUnknownTopicOrPartition);

  BrokersChanged(Live({1, 2}));  // 3 is outside the ISR: no change.
  EXPECT_EQ(State("t", 0)->second, 1);
  EXPECT_EQ(alter(1, 0, 1, {1, 2, 3}).error, AlterPartitionError::kIneligibleReplica);
  EXPECT_EQ(State("t", 0)->second, 1);
}

TEST_F(PartitionStateMachineTest, ADeposedControllerWritesNothingAndTellsNoOne) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  // Another controller is elected behind this one's back.
  ASSERT_TRUE(observer_->Set(zk::kControllerEpochPath, zk::EncodeControllerEpoch(kEpoch + 1), 0).ok());
  channel_.Clear();
  BrokersChanged(Live({2}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 0, kEpoch, {1, 2}}, 0));
  EXPECT_TRUE(OnLoop([&] { return machine_->deposed(); }));
  EXPECT_EQ(channel_.total(), 0u);
  EXPECT_EQ(OnLoop([&] { return machine_->AlterPartition({1, "t", 0, 0, 0, {1}}); }).error,
            AlterPartitionError::kNotController);
  auto elected = OnLoop([&] { return machine_->ElectPreferredLeaders({{"t", 0}}); });
  EXPECT_EQ(elected.at({"t", 0}), ElectionError::kNotController);
  BrokersChanged(Live({1, 2}));
  EXPECT_EQ(State("t", 0)->second, 0);
  EXPECT_EQ(channel_.total(), 0u);
}

TEST_F(PartitionStateMachineTest, AStateChangedBehindTheModelIsReadAndDecidedAgain) {
  Activate(Live({1, 2, 3}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  // Someone rewrote the state (version 1): the model still has version 0.
  ASSERT_TRUE(observer_->Set(zk::PartitionStatePath("t", 0),
                             zk::EncodePartitionState({1, 4, kEpoch, {1, 2}}), 0).ok());
  BrokersChanged(Live({1, 3}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 5, kEpoch, {1}}, 2));
  EXPECT_FALSE(OnLoop([&] { return machine_->deposed(); }));
}

TEST_F(PartitionStateMachineTest, PreferredLeaderElection) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  auto elect = [&] {
    return OnLoop([&] { return machine_->ElectPreferredLeaders({{"t", 0}, {"t", 9}}); });
  };
  auto result = elect();
  EXPECT_EQ(result.at({"t", 0}), ElectionError::kElectionNotNeeded);
  EXPECT_EQ(result.at({"t", 9}), ElectionError::kUnknownTopicOrPartition);
  BrokersChanged(Live({2}));
  BrokersChanged(Live({1, 2}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{2, 1, kEpoch, {2}}, 1));
  // Broker 1 is back but not in the ISR yet.
  EXPECT_EQ(elect().at({"t", 0}), ElectionError::kPreferredLeaderNotAvailable);
  auto joined = OnLoop([&] { return machine_->AlterPartition({2, "t", 0, 1, 1, {2, 1}}); });
  ASSERT_EQ(joined.error, AlterPartitionError::kNone);
  channel_.Clear();
  EXPECT_EQ(elect().at({"t", 0}), ElectionError::kNone);
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 2, kEpoch, {2, 1}}, 3));
  EXPECT_EQ(channel_.LeaderAndIsrRecipients("t", 0), (std::set<int32_t>{1, 2}));
}

TEST_F(PartitionStateMachineTest, PreferredLeaderElectionWhileThePreferredReplicaIsDown) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  BrokersChanged(Live({2}));
  channel_.Clear();
  auto result = OnLoop([&] { return machine_->ElectPreferredLeaders({{"t", 0}, {"other", 0}}); });
  EXPECT_EQ(result.at({"t", 0}), ElectionError::kPreferredLeaderNotAvailable);
  EXPECT_EQ(result.at({"other", 0}), ElectionError::kUnknownTopicOrPartition);
  EXPECT_EQ(State("t", 0)->first.leader, 2);
  EXPECT_EQ(channel_.total(), 0u);  // Nothing decided, nothing sent.
}

// ElectLeaders with election type 1 on a machine whose own unclean
// election is off: the partition is offline because its only ISR member
// is dead, and a live replica outside the ISR takes over.
TEST_F(PartitionStateMachineTest, UncleanElectionOnDemand) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}, {1, {1}}});
  ASSERT_TRUE(WaitForStates("t", 2));
  BrokersChanged(Live({1}));
  BrokersChanged(Live({}));
  BrokersChanged(Live({2}));
  // Clean elections left it offline with the dead broker as its ISR.
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{-1, 2, kEpoch, {1}}, 2));
  channel_.Clear();
  auto elect = [&] {
    return OnLoop([&] {
      return machine_->ElectUncleanLeaders({{"t", 0}, {"t", 1}, {"t", 7}});
    });
  };
  auto result = elect();
  EXPECT_EQ(result.at({"t", 0}), ElectionError::kNone);
  EXPECT_EQ(result.at({"t", 1}), ElectionError::kEligibleLeadersNotAvailable);  // Only on 1.
  EXPECT_EQ(result.at({"t", 7}), ElectionError::kUnknownTopicOrPartition);
  // Leader epoch + 1, the new leader alone in the ISR.
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{2, 3, kEpoch, {2}}, 3));
  // Untouched.
  EXPECT_EQ(*State("t", 1), std::make_pair(zk::PartitionState{-1, 1, kEpoch, {1}}, 1));
  EXPECT_EQ(channel_.LeaderAndIsrRecipients("t", 0), (std::set<int32_t>{2}));
  for (const auto& u : channel_.um()) {
    for (const auto& p : u.request.partitions) {
      if (p.topic == "t" && p.partition == 0) {
        EXPECT_EQ(p.leader, 2);
      }
    }
  }
  // It has a live leader now.
  EXPECT_EQ(elect().at({"t", 0}), ElectionError::kElectionNotNeeded);
  EXPECT_EQ(State("t", 0)->second, 3);
}

TEST_F(PartitionStateMachineTest, RebalanceMovesLeadershipBackToThePreferredReplica) {
  Activate(Live({1, 2, 3}));
  CreateTopic("t", {{0, {1, 2, 3}}, {1, {2, 3, 1}}, {2, {3, 1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 3));
  EXPECT_TRUE(OnLoop([&] { return machine_->RebalancePreferredLeaders(10); }).empty());
  // Broker 1 restarts: partition 0 moves to 2, and 1 leaves every ISR.
  auto restarted = Live({1, 2, 3});
  restarted.at(1).timestamp_ms += 1;
  BrokersChanged(restarted);
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{2, 1, kEpoch, {2, 3}}));
  // Imbalanced (1 leads none of its one partition), but 1 is not in the ISR.
  EXPECT_TRUE(OnLoop([&] { return machine_->RebalancePreferredLeaders(10); }).empty());
  ASSERT_EQ(OnLoop([&] { return machine_->AlterPartition({2, "t", 0, 1, 1, {2, 3, 1}}); }).error,
            AlterPartitionError::kNone);
  channel_.Clear();
  auto moved = OnLoop([&] { return machine_->RebalancePreferredLeaders(10); });
  EXPECT_EQ(moved, (std::map<TopicPartition, ElectionError>{{{"t", 0}, ElectionError::kNone}}));
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 2, kEpoch, {2, 3, 1}}, 3));
  EXPECT_EQ(channel_.LeaderAndIsrRecipients("t", 0), (std::set<int32_t>{1, 2, 3}));
  EXPECT_TRUE(OnLoop([&] { return machine_->RebalancePreferredLeaders(10); }).empty());
  // Not the controller any more: no check does anything.
  OnLoop([&] { machine_->Deactivate(); });
  EXPECT_TRUE(OnLoop([&] { return machine_->RebalancePreferredLeaders(0); }).empty());
}

TEST_F(PartitionStateMachineTest, DeletionStopsTheReplicasAndRemovesTheZnodes) {
  Activate(Live({1, 2, 3}));
  ASSERT_TRUE(CreateTopicZnodes(*observer_, "doomed", {{0, {1, 2}}, {1, {2, 3}}},
                                {{"retention.ms", "5"}}, NewTopicUuid()).ok());
  ASSERT_TRUE(WaitForStates("doomed", 2));
  channel_.Clear();
  ASSERT_TRUE(RequestTopicDeletion(*observer_, "doomed").ok());
  ASSERT_TRUE(WaitUntil([&] {
    return !observer_->Exists(zk::TopicPath("doomed"))->has_value() &&
           !observer_->Exists(zk::DeleteTopicPath("doomed"))->has_value();
  }));
  EXPECT_FALSE(observer_->Exists(zk::TopicConfigPath("doomed"))->has_value());
  OnLoop([] {});  // The deletion's event has finished.
  ASSERT_EQ(channel_.stop().size(), 3u);
  std::map<int32_t, std::set<int32_t>> stopped;  // broker -> partitions
  for (const auto& s : channel_.stop()) {
    for (const auto& p : s.request.partitions) {
      EXPECT_TRUE(p.delete_partition);
      EXPECT_EQ(p.leader_epoch, kEpochDuringDelete);
      EXPECT_EQ(p.topic, "doomed");
      stopped[s.broker].insert(p.partition);
    }
  }
  EXPECT_EQ(stopped, (std::map<int32_t, std::set<int32_t>>{{1, {0}}, {2, {0, 1}}, {3, {1}}}));
  const auto um = channel_.um();
  ASSERT_FALSE(um.empty());
  for (const auto& p : um[0].request.partitions) EXPECT_EQ(p.leader, kLeaderDuringDelete);
  EXPECT_TRUE(OnLoop([&] { return machine_->topics().empty(); }));
  // The name can be used again.
  CreateTopic("doomed", {{0, {3}}});
  ASSERT_TRUE(WaitForStates("doomed", 1));
  EXPECT_EQ(State("doomed", 0)->first, (zk::PartitionState{3, 0, kEpoch, {3}}));
}

TEST_F(PartitionStateMachineTest, ARestartedBrokerLosesItsLeadershipsAndGetsEverything) {
  Activate(Live({1, 2}));
  CreateTopic("t", {{0, {1, 2}}});
  ASSERT_TRUE(WaitForStates("t", 1));
  auto restarted = Live({1, 2});
  restarted.at(1).timestamp_ms += 1;
  channel_.Clear();
  BrokersChanged(restarted);
  // Led by 2 while 1 counted as gone, then 1 rejoined as a follower outside the ISR.
  EXPECT_EQ(State("t", 0)->first, (zk::PartitionState{2, 1, kEpoch, {2}}));
  bool full_to_1 = false;
  for (const auto& l : channel_.lai()) full_to_1 |= l.broker == 1 && l.request.full;
  EXPECT_TRUE(full_to_1);
}

TEST_F(PartitionStateMachineTest, WatchesOfAnEndedActivationDoNothing) {
  Activate(Live({1}));
  OnLoop([&] { machine_->Deactivate(); });
  // Another session's watch on the same node tells when ZooKeeper has sent
  // the notifications; the loop then runs whatever the machine's posted.
  std::atomic<bool> fired{false};
  ASSERT_TRUE(observer_->GetChildren(zk::kTopicsPath, [&](zk::WatchEvent, const std::string&) {
    fired = true;
  }).ok());
  CreateTopic("later", {{0, {1}}});
  ASSERT_TRUE(WaitUntil([&] { return fired.load(); }));
  OnLoop([] {});
  EXPECT_FALSE(State("later", 0));
  EXPECT_FALSE(OnLoop([&] { return machine_->active(); }));
}

}  // namespace
}  // namespace sluice::controller
