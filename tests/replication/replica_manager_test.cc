// ReplicaManager's leadership hook on real partition logs in a temporary
// directory: every role change LeaderAndIsr and StopReplica apply is told,
// in order, after the partition took its role (what the group coordinator
// relies on to load and unload the groups of __consumer_offsets).
#include "replication/replica_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <tuple>
#include <vector>

#include "support/temp_dir.h"

namespace sluice::replication {
namespace {

using Change = std::tuple<std::string, int32_t, bool, int32_t>;

class ReplicaManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = config::BrokerConfig::Build({}, "", {"log.dirs=" + dir_.path().string()});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<config::BrokerConfig>(*c);
    auto pm = cluster::PartitionManager::Open(*config_);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    partitions_ = std::move(*pm);
    ReplicaManagerOptions o;
    o.broker_id = 1;
    o.on_leadership = [this](const storage::TopicPartition& tp, bool is_leader, int32_t epoch) {
      // Called after the role is taken: the partition already says so (a
      // stopped replica is detached by then).
      if (auto p = partitions_->Get(tp.topic, tp.partition)) {
        EXPECT_EQ(p->is_leader(), is_leader);
      } else {
        EXPECT_FALSE(is_leader);
      }
      changes_.emplace_back(tp.topic, tp.partition, is_leader, epoch);
    };
    replicas_ = std::make_unique<ReplicaManager>(partitions_.get(), std::move(o));
  }

  void TearDown() override {
    if (replicas_) replicas_->Shutdown();
    if (partitions_) (void)partitions_->Close();
  }

  controller::LeaderAndIsrRequest Request(int32_t leader, int32_t leader_epoch) {
    controller::LeaderAndIsrRequest r;
    r.controller_id = 1;
    r.controller_epoch = 1;
    controller::PartitionLeaderInfo& info = r.partitions.emplace_back();
    info.topic = "__consumer_offsets";
    info.topic_id[0] = 7;
    info.partition = 0;
    info.leader = leader;
    info.leader_epoch = leader_epoch;
    info.isr = {1, 2};
    info.replicas = {1, 2};
    info.is_new = true;
    return r;
  }

  testing::TempDir dir_;
  std::unique_ptr<config::BrokerConfig> config_;
  std::unique_ptr<cluster::PartitionManager> partitions_;
  std::unique_ptr<ReplicaManager> replicas_;
  std::vector<Change> changes_;
};

TEST_F(ReplicaManagerTest, EveryRoleChangeIsToldInOrder) {
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(Request(1, 1)).error, protocol::ErrorCode::NONE);
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(Request(2, 2)).error, protocol::ErrorCode::NONE);
  // A stale leader epoch changes nothing and tells nothing.
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(Request(1, 2)).partitions.at(0).error,
            protocol::ErrorCode::STALE_CONTROLLER_EPOCH);
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(Request(1, 3)).error, protocol::ErrorCode::NONE);
  const std::vector<Change> expected = {{"__consumer_offsets", 0, true, 1},
                                        {"__consumer_offsets", 0, false, 2},
                                        {"__consumer_offsets", 0, true, 3}};
  EXPECT_EQ(expected, changes_);

  // Stopping a replica it leads: it leads no more.
  controller::StopReplicaRequest stop;
  stop.controller_id = 1;
  stop.controller_epoch = 1;
  stop.partitions.push_back({"__consumer_offsets", 0, 3, /*delete_partition=*/false});
  changes_.clear();
  ASSERT_EQ(replicas_->ApplyStopReplica(stop).error, protocol::ErrorCode::NONE);
  EXPECT_EQ((std::vector<Change>{{"__consumer_offsets", 0, false, 3}}), changes_);
}

// A broker leaving the cluster stops leading at once: a write waiting for
// its followers is answered NotLeader (the producer moves to the new
// leader) instead of at its request's timeout.
TEST_F(ReplicaManagerTest, ResigningAnswersWritesWaitingForFollowers) {
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(Request(1, 1)).error, protocol::ErrorCode::NONE);
  auto p = partitions_->Get("__consumer_offsets", 0);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->is_leader());
  ASSERT_TRUE(p->has_followers());
  std::optional<Status> answered;
  ASSERT_NE(p->WhenCommitted(1, [&](Status s, size_t) { answered = s; }), 0u);
  EXPECT_FALSE(answered) << "the follower has not fetched offset 1";
  changes_.clear();
  replicas_->ResignLeadership();
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->code(), StatusCode::kNotLeader) << answered->ToString();
  EXPECT_FALSE(p->is_leader());
  EXPECT_EQ(p->leader_id(), -1);
  EXPECT_EQ(replicas_->stats().leaders, 0u);
  EXPECT_EQ((std::vector<Change>{{"__consumer_offsets", 0, false, 1}}), changes_);
  replicas_->ResignLeadership();  // Idempotent: nothing more is told.
  EXPECT_EQ(changes_.size(), 1u);
}

// A full LeaderAndIsr lists every partition this broker holds; logs of any
// other partition of a cluster topic are stray (the topic was deleted, or
// the partition moved, while the broker was away) and go, leadership and
// all. What the request lists stays, and so do the broker's own topics.
TEST_F(ReplicaManagerTest, AFullLeaderAndIsrDeletesTheLogsItDoesNotList) {
  controller::LeaderAndIsrRequest both = Request(1, 1);
  controller::PartitionLeaderInfo other = both.partitions[0];
  other.topic = "gone";
  other.topic_id[0] = 9;
  both.partitions.push_back(other);
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(both).error, protocol::ErrorCode::NONE);
  ASSERT_TRUE(partitions_->CreateTopic("local", 1, 1, {}, false).ok());
  ASSERT_TRUE(std::filesystem::exists(dir_.path() / "gone-0"));

  // Incremental: what it does not list is not touched.
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(Request(1, 2)).error, protocol::ErrorCode::NONE);
  EXPECT_NE(nullptr, partitions_->Get("gone", 0));

  controller::LeaderAndIsrRequest full = Request(1, 3);
  full.full = true;
  changes_.clear();
  ASSERT_EQ(replicas_->ApplyLeaderAndIsr(full).error, protocol::ErrorCode::NONE);
  EXPECT_EQ(nullptr, partitions_->Get("gone", 0));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "gone-0"));
  EXPECT_NE(nullptr, partitions_->Get("__consumer_offsets", 0));
  EXPECT_NE(nullptr, partitions_->Get("local", 0));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "local-0"));
  EXPECT_EQ((std::vector<Change>{{"__consumer_offsets", 0, true, 3}, {"gone", 0, false, 1}}),
            changes_);
}

}  // namespace
}  // namespace sluice::replication
