// The controller's side of partition reassignment (KIP-455,
// PartitionStateMachine::Reassign and its completion) against a real
// ZooKeeper server, with a channel that records what the brokers would be
// told. The machine runs on its EventLoop as in the broker; the live set
// and the leader's ISR changes are fed to it directly.
#include <future>
#include <map>
#include <memory>
#include <optional>
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
using V = std::vector<int32_t>;

constexpr int32_t kReassignEpoch = 5;

// Keeps what was sent, per broker.
class ReassignRecorder final : public ControllerChannel {
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

std::map<int32_t, zk::BrokerRegistration> LiveSet(std::initializer_list<int32_t> ids) {
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

class ReassignmentZkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok());
    observer_ = std::move(*c);
    // As if this broker had won the election of epoch kReassignEpoch (version 0).
    ASSERT_TRUE(observer_
                    ->Create(zk::kControllerEpochPath, zk::EncodeControllerEpoch(kReassignEpoch),
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
    Status s = OnLoop([&] { return machine_->Activate(ControllerEpoch{kReassignEpoch, 0}, live); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void BrokersChanged(std::map<int32_t, zk::BrokerRegistration> live) {
    OnLoop([&] { machine_->OnBrokersChanged(live); });
  }
  ReassignmentError Reassign(const TopicPartition& tp, std::optional<std::vector<int32_t>> target,
                             std::string* why = nullptr) {
    std::string ignored;
    return OnLoop([&] { return machine_->Reassign(tp, target, why ? why : &ignored); });
  }
  // The topic znode as stored.
  zk::TopicAssignment Assignment(const std::string& topic) {
    auto node = observer_->Get(zk::TopicPath(topic));
    EXPECT_TRUE(node.ok());
    return node.ok() ? *zk::DecodeTopicAssignment(node->data) : zk::TopicAssignment{};
  }
  // The leader of `tp` asks for `isr` (AlterPartition), as its ISR check would.
  AlterPartitionResult ExpandIsr(const TopicPartition& tp, std::vector<int32_t> isr) {
    auto [state, version] = *State(tp.topic, tp.partition);
    AlterPartitionRequest r;
    r.broker_id = state.leader;
    r.topic = tp.topic;
    r.partition = tp.partition;
    r.leader_epoch = state.leader_epoch;
    r.partition_epoch = version;
    r.new_isr = std::move(isr);
    return Alter(r);
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
  ReassignRecorder channel_;
  EventLoop loop_{"controller-test"};
  std::unique_ptr<PartitionStateMachine> machine_;
};

std::set<int32_t> ToldOf(const std::map<int32_t, std::vector<PartitionLeaderInfo>>& lai,
                         const TopicPartition& tp) {
  std::set<int32_t> out;
  for (const auto& [b, ps] : lai) {
    for (const auto& p : ps) {
      if (p.topic == tp.topic && p.partition == tp.partition) out.insert(b);
    }
  }
  return out;
}

TEST_F(ReassignmentZkTest, MovesOnceTheTargetIsInTheIsr) {
  Activate(LiveSet({1, 2, 3, 4}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  const TopicPartition tp{"t", 0};
  channel_.Clear();

  ASSERT_EQ(Reassign(tp, V{2, 3, 4}), ReassignmentError::kNone);
  // RS = TRS then the rest of ORS, stored with what is added and removed.
  zk::TopicAssignment a = Assignment("t");
  EXPECT_EQ(a.partitions.at(0), (V{2, 3, 4, 1}));
  EXPECT_EQ(a.adding_replicas.at(0), (V{4}));
  EXPECT_EQ(a.removing_replicas.at(0), (V{1}));
  // A new leader epoch, and every replica of RS told (4 starts fetching).
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{1, 1, kReassignEpoch, {1, 2, 3}}, 1));
  const auto lai = channel_.lai();
  EXPECT_EQ(ToldOf(lai, tp), (std::set<int32_t>{1, 2, 3, 4}));
  for (const auto& p : lai.at(4)) EXPECT_EQ(p.replicas, (V{2, 3, 4, 1}));
  EXPECT_TRUE(channel_.stop().empty());
  std::optional<PartitionModel> m = OnLoop([&] { return machine_->partition(tp); });
  EXPECT_EQ(m->adding, (V{4}));
  EXPECT_EQ(m->removing, (V{1}));

  // 4 catches up: the leader adds it to the ISR, which completes the move.
  channel_.Clear();
  ASSERT_EQ(ExpandIsr(tp, {1, 2, 3, 4}).error, AlterPartitionError::kNone);
  // 1 is not a target replica: 2 (first in target order, in the ISR) leads.
  EXPECT_EQ(*State("t", 0), std::make_pair(zk::PartitionState{2, 2, kReassignEpoch, {2, 3, 4}}, 3));
  a = Assignment("t");
  EXPECT_EQ(a.partitions.at(0), (V{2, 3, 4}));
  EXPECT_TRUE(a.adding_replicas.empty());
  EXPECT_TRUE(a.removing_replicas.empty());
  m = OnLoop([&] { return machine_->partition(tp); });
  EXPECT_EQ(m->replicas, (V{2, 3, 4}));
  EXPECT_TRUE(m->adding.empty() && m->removing.empty());
  EXPECT_EQ(ToldOf(channel_.lai(), tp), (std::set<int32_t>{2, 3, 4}));
  const auto stop = channel_.stop();
  ASSERT_EQ(stop.size(), 1u);
  ASSERT_EQ(stop.at(1).size(), 1u);
  EXPECT_TRUE(stop.at(1)[0].delete_partition);
  EXPECT_EQ(stop.at(1)[0].leader_epoch, 2);
}

TEST_F(ReassignmentZkTest, RequestsAreValidated) {
  Activate(LiveSet({1, 2, 3, 4}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  const TopicPartition tp{"t", 0};
  std::string why;
  EXPECT_EQ(Reassign({"t", 1}, V{1, 2}), ReassignmentError::kUnknownTopicOrPartition);
  EXPECT_EQ(Reassign({"nope", 0}, V{1, 2}), ReassignmentError::kUnknownTopicOrPartition);
  EXPECT_EQ(Reassign(tp, V{}), ReassignmentError::kInvalidReplicaAssignment);
  EXPECT_EQ(Reassign(tp, V{2, 2, 3}), ReassignmentError::kInvalidReplicaAssignment);
  EXPECT_EQ(Reassign(tp, V{2, 3, 9}, &why), ReassignmentError::kInvalidReplicaAssignment);
  EXPECT_NE(why.find("9"), std::string::npos) << why;
  EXPECT_EQ(Reassign(tp, std::nullopt), ReassignmentError::kNoReassignmentInProgress);
  // The current replicas: nothing written.
  EXPECT_EQ(Reassign(tp, V{1, 2, 3}), ReassignmentError::kNone);
  EXPECT_EQ(State("t", 0)->second, 0);
  EXPECT_EQ(Assignment("t").partitions.at(0), (V{1, 2, 3}));
}

TEST_F(ReassignmentZkTest, CancelRevertsAndDeletesTheAddedReplicas) {
  Activate(LiveSet({1, 2, 3, 4}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  const TopicPartition tp{"t", 0};
  ASSERT_EQ(Reassign(tp, V{2, 3, 4}), ReassignmentError::kNone);
  channel_.Clear();
  ASSERT_EQ(Reassign(tp, std::nullopt), ReassignmentError::kNone);
  // The originals are all in the ISR: done at once, 4 stopped and deleted.
  const zk::TopicAssignment a = Assignment("t");
  EXPECT_EQ(a.partitions.at(0), (V{2, 3, 1}));  // Kafka's ORS order: RS without the added
  EXPECT_TRUE(a.adding_replicas.empty());
  EXPECT_TRUE(a.removing_replicas.empty());
  EXPECT_EQ(State("t", 0)->first.leader, 1);
  EXPECT_EQ(State("t", 0)->first.isr, (V{1, 2, 3}));
  const auto stop = channel_.stop();
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_TRUE(stop.at(4).at(0).delete_partition);
  EXPECT_EQ(Reassign(tp, std::nullopt), ReassignmentError::kNoReassignmentInProgress);
}

TEST_F(ReassignmentZkTest, ANewControllerResumesAReassignment) {
  Activate(LiveSet({1, 2, 3, 4}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  const TopicPartition tp{"t", 0};
  ASSERT_EQ(Reassign(tp, V{2, 3, 4}), ReassignmentError::kNone);

  // Another controller (a fresh machine) takes over: it reads RS, adding
  // and removing back from the topic znode, and tells 4 to fetch.
  OnLoop([&] { machine_.reset(); });
  Make(/*unclean=*/false);
  channel_.Clear();
  Activate(LiveSet({1, 2, 3, 4}));
  std::optional<PartitionModel> m = OnLoop([&] { return machine_->partition(tp); });
  ASSERT_TRUE(m);
  EXPECT_EQ(m->replicas, (V{2, 3, 4, 1}));
  EXPECT_EQ(m->adding, (V{4}));
  EXPECT_EQ(m->removing, (V{1}));
  EXPECT_TRUE(ToldOf(channel_.lai(), tp).contains(4));

  ASSERT_EQ(ExpandIsr(tp, {1, 2, 3, 4}).error, AlterPartitionError::kNone);
  EXPECT_EQ(Assignment("t").partitions.at(0), (V{2, 3, 4}));
  EXPECT_EQ(State("t", 0)->first.isr, (V{2, 3, 4}));
  EXPECT_TRUE(channel_.stop().at(1).at(0).delete_partition);
}

TEST_F(ReassignmentZkTest, ActivationCompletesAReassignmentWhoseTargetIsInTheIsr) {
  Activate(LiveSet({1, 2, 3, 4}));
  CreateTopic("t", {{0, {1, 2, 3}}});
  const TopicPartition tp{"t", 0};
  // Reassigned while this controller stops between the state write and the
  // topic znode's (as if it failed over then): the target is in the ISR.
  ASSERT_EQ(Reassign(tp, V{3, 2}), ReassignmentError::kNone);
  EXPECT_EQ(Assignment("t").partitions.at(0), (V{3, 2}));  // done at once: 2, 3 in the ISR
  zk::TopicAssignment pending = Assignment("t");
  pending.partitions[0] = {3, 2, 1};
  pending.removing_replicas[0] = {1};
  ASSERT_TRUE(observer_->Set(zk::TopicPath("t"), zk::EncodeTopicAssignment(pending), -1).ok());
  OnLoop([&] { machine_.reset(); });
  Make(/*unclean=*/false);
  Activate(LiveSet({1, 2, 3, 4}));
  EXPECT_EQ(Assignment("t").partitions.at(0), (V{3, 2}));
  EXPECT_TRUE(Assignment("t").removing_replicas.empty());
  std::optional<PartitionModel> m = OnLoop([&] { return machine_->partition(tp); });
  EXPECT_EQ(m->replicas, (V{3, 2}));
}

TEST_F(ReassignmentZkTest, ANonControllerRefuses) {
  EXPECT_EQ(Reassign({"t", 0}, V{1}), ReassignmentError::kNotController);
}

}  // namespace
}  // namespace sluice::controller
