// PartitionManager in a cluster: the controller decides which partitions a
// broker holds (HostReplicas / StopReplicas); they are never written to the
// broker's own topic table, survive a restart as logs on disk, and are not
// writable until made leader.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cluster/partition_manager.h"
#include "cluster/partition_metadata_file.h"
#include "config/broker_config.h"
#include "model/record_batch_builder.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

std::vector<uint8_t> BatchOfV(int records) {
  model::RecordBatchBuilder builder;
  for (int i = 0; i < records; ++i) builder.Add(1000 + i, std::nullopt, model::AsBytes("v"));
  return builder.Build().value();
}

// Broker 1's leadership at `epoch`, with `replicas` and `isr`.
Partition::Leadership Leader(int32_t epoch, std::vector<int32_t> replicas = {1},
                             std::vector<int32_t> isr = {1}, int32_t partition_epoch = 0) {
  return Partition::Leadership{.local_id = 1, .leader_epoch = epoch,
                               .partition_epoch = partition_epoch,
                               .replicas = std::move(replicas), .isr = std::move(isr)};
}

// One broker's data directory, opened (and re-opened, as after a restart) by
// a PartitionManager in cluster use.
class ReplicaHostingTest : public ::testing::Test {
 protected:
  ReplicaHostingTest() {
    auto c = config::BrokerConfig::Build({}, "", {"log.dirs=" + dir_.path().string()});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
  }

  std::unique_ptr<PartitionManager> Open() {
    auto pm = PartitionManager::Open(config_);
    EXPECT_TRUE(pm.ok()) << pm.status().ToString();
    return pm.ok() ? std::move(*pm) : nullptr;
  }

  // Hosts one partition of `topic` and returns its replica.
  std::shared_ptr<Partition> Host(PartitionManager& pm, const std::string& topic,
                                  int32_t partition) {
    auto hosted = pm.HostReplicas(topic, id_, {partition}, {});
    EXPECT_TRUE(hosted.ok()) << hosted.status().ToString();
    return hosted.ok() ? (*hosted)[0] : nullptr;
  }

  // Hosts `topic`-0 with id_, leads it, appends three records and closes:
  // a log left on disk, as a broker's restart finds it.
  void LeaveALogOfThreeRecords(const std::string& topic) {
    auto pm = Open();
    ASSERT_NE(nullptr, pm);
    auto p = Host(*pm, topic, 0);
    ASSERT_NE(nullptr, p);
    p->BecomeLeader(Leader(1), 0);
    auto batch = BatchOfV(3);
    ASSERT_TRUE(p->Append(batch, -1).ok());
    ASSERT_TRUE(pm->Close().ok());
  }

  testing::TempDir dir_;
  config::BrokerConfig config_;
  const TopicId id_ = NewTopicId();
};

TEST_F(ReplicaHostingTest, HostsOnlyTheAssignedPartitionsAndKeepsThemAcrossARestart) {
  {
    auto pm = Open();
    ASSERT_NE(nullptr, pm);
    auto hosted = pm->HostReplicas("orders", id_, {1, 4}, {{"retention.ms", "60000"}});
    ASSERT_TRUE(hosted.ok()) << hosted.status().ToString();
    ASSERT_EQ(2u, hosted->size());
    EXPECT_EQ(nullptr, pm->Get("orders", 0));
    EXPECT_EQ(nullptr, pm->Get("orders", 2));
    auto p4 = pm->Get("orders", 4);
    ASSERT_NE(nullptr, p4);
    EXPECT_EQ((*hosted)[1], p4);
    // Not writable until the controller makes it the leader.
    EXPECT_FALSE(p4->is_leader());
    auto batch = BatchOfV(3);
    EXPECT_EQ(StatusCode::kNotLeader, p4->Append(batch, -1).status().code());
    p4->BecomeLeader(Leader(2), 0);
    ASSERT_TRUE(p4->Append(batch, -1).ok());
    auto cfg = pm->TopicConfigOf("orders");
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(60000, cfg->retention_ms);
    // Hosting again (a repeated LeaderAndIsr) keeps the same replica.
    EXPECT_EQ(p4, Host(*pm, "orders", 4));
    EXPECT_TRUE(p4->is_leader());
    ASSERT_TRUE(pm->Close().ok());
  }
  auto pm = Open();
  ASSERT_NE(nullptr, pm);
  // Not in the broker's table: nothing is attached until the controller says so.
  EXPECT_EQ(nullptr, pm->Get("orders", 4));
  auto p4 = Host(*pm, "orders", 4);
  ASSERT_NE(nullptr, p4);
  EXPECT_EQ(3, p4->log_end_offset());
  EXPECT_EQ(2, p4->EndOffsetForEpoch(2).first);
  ASSERT_TRUE(pm->Close().ok());
}

// A broker that led, wrote a tail no follower copied, and crashed must not
// show that tail to consumers when it is hosted again (and perhaps made
// leader again before anyone reconciles it): its high watermark starts at
// its log start and only its ISR moves it.
TEST_F(ReplicaHostingTest, AHostedReplicaExposesNothingItsIsrHasNotConfirmed) {
  {
    auto pm = Open();
    ASSERT_NE(nullptr, pm);
    std::shared_ptr<Partition> p = Host(*pm, "t", 0);
    ASSERT_NE(nullptr, p);
    // Led with followers that never fetched: the tail is not committed.
    p->BecomeLeader(Leader(1, {1, 2, 3}, {1, 2, 3}), 0);
    auto batch = BatchOfV(3);
    ASSERT_TRUE(p->Append(batch, -1).ok());
    ASSERT_TRUE(p->log().Flush().ok());
    EXPECT_EQ(0, p->high_watermark());
    ASSERT_TRUE(pm->Close().ok());
  }
  auto pm = Open();
  ASSERT_NE(nullptr, pm);
  std::shared_ptr<Partition> p = Host(*pm, "t", 0);
  ASSERT_NE(nullptr, p);
  EXPECT_EQ(3, p->log_end_offset());
  EXPECT_EQ(0, p->high_watermark());  // was 3: the whole flushed log
  // Told to lead again at the same epoch with the same ISR: still nothing.
  p->BecomeLeader(Leader(1, {1, 2, 3}, {1, 2, 3}), 0);
  EXPECT_EQ(0, p->high_watermark());
  // Alone in the ISR, its log is the committed one.
  p->BecomeLeader(Leader(2, {1, 2, 3}, {1}, /*partition_epoch=*/1), 0);
  EXPECT_EQ(3, p->high_watermark());
  ASSERT_TRUE(pm->Close().ok());
}

TEST_F(ReplicaHostingTest, StopReplicaDetachesAndDeletesOnlyWhenAsked) {
  auto pm = Open();
  ASSERT_NE(nullptr, pm);
  ASSERT_TRUE(pm->HostReplicas("t", id_, {0, 1}, {}).ok());
  auto p0 = pm->Get("t", 0);
  p0->BecomeLeader(Leader(0), 0);
  auto batch = BatchOfV(2);
  ASSERT_TRUE(p0->Append(batch, -1).ok());
  ASSERT_TRUE(pm->StopReplicas("t", {0}, /*delete_logs=*/false).ok());
  EXPECT_EQ(nullptr, pm->Get("t", 0));
  EXPECT_NE(nullptr, pm->Get("t", 1));
  EXPECT_FALSE(p0->is_leader());
  // Kept: hosting it again finds the data.
  auto back = Host(*pm, "t", 0);
  ASSERT_NE(nullptr, back);
  EXPECT_EQ(2, back->log_end_offset());
  ASSERT_TRUE(pm->StopReplicas("t", {0, 1}, /*delete_logs=*/true).ok());
  EXPECT_FALSE(pm->FindTopic("t").has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "t-0"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "t-1"));
  // A topic of the broker's own table is not the controller's to host.
  ASSERT_TRUE(pm->CreateTopic("local", 1, 1, {}, false).ok());
  EXPECT_EQ(StatusCode::kInvalidArgument,
            pm->HostReplicas("local", id_, {0}, {}).status().code());
  ASSERT_TRUE(pm->Close().ok());
}

// A topic deleted while this broker was away and created again under the
// same name: the log left on disk is the earlier topic's (another id in its
// partition.metadata) and must not be served as the new one's.
TEST_F(ReplicaHostingTest, ALogOfAnEarlierTopicOfTheSameNameIsNotServed) {
  ASSERT_NO_FATAL_FAILURE(LeaveALogOfThreeRecords("t"));
  auto pm = Open();
  ASSERT_NE(nullptr, pm);
  const TopicId again = NewTopicId();
  auto hosted = pm->HostReplicas("t", again, {0}, {});
  ASSERT_TRUE(hosted.ok()) << hosted.status().ToString();
  EXPECT_EQ(0, (*hosted)[0]->log_end_offset());
  auto recorded = ReadPartitionMetadata(storage::FileSystem::Default(), dir_.path() / "t-0");
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(again, *recorded);
  ASSERT_TRUE(pm->Close().ok());
}

// A log without partition.metadata (written before the file existed) is
// the topic's that hosts it, and gets the file.
TEST_F(ReplicaHostingTest, ALogWithoutARecordedTopicIsAdopted) {
  ASSERT_NO_FATAL_FAILURE(LeaveALogOfThreeRecords("t"));
  ASSERT_TRUE(std::filesystem::remove(dir_.path() / "t-0" / kPartitionMetadataFile));
  auto pm = Open();
  ASSERT_NE(nullptr, pm);
  auto p = Host(*pm, "t", 0);
  ASSERT_NE(nullptr, p);
  EXPECT_EQ(3, p->log_end_offset());
  auto recorded = ReadPartitionMetadata(storage::FileSystem::Default(), dir_.path() / "t-0");
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(id_, *recorded);
  ASSERT_TRUE(pm->Close().ok());
}

// What a full LeaderAndIsr does not list: every cluster topic's log on the
// disk, attached or not, but never the broker's own topics.
TEST_F(ReplicaHostingTest, UnassignedReplicasAreTheClusterLogsNotAssigned) {
  using storage::TopicPartition;
  {
    auto pm = Open();
    ASSERT_NE(nullptr, pm);
    ASSERT_TRUE(pm->HostReplicas("t", id_, {0, 1}, {}).ok());
    ASSERT_TRUE(pm->CreateTopic("local", 1, 1, {}, false).ok());
    EXPECT_EQ(std::vector<TopicPartition>{(TopicPartition{"t", 1})},
              pm->UnassignedReplicas({TopicPartition{"t", 0}}));
    ASSERT_TRUE(pm->Close().ok());
  }
  auto pm = Open();  // Restarted: nothing attached yet.
  ASSERT_NE(nullptr, pm);
  EXPECT_EQ((std::vector<TopicPartition>{{"t", 0}, {"t", 1}}), pm->UnassignedReplicas({}));
  // StopReplica with delete reaches a log that is on disk but not attached.
  ASSERT_TRUE(pm->StopReplicas("t", {1}, /*delete_logs=*/true).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "t-1"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "t-0"));
  ASSERT_TRUE(pm->StopReplicas("local", {0}, /*delete_logs=*/true).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "local-0")) << "not the controller's";
  ASSERT_TRUE(pm->Close().ok());
}

}  // namespace
}  // namespace sluice::cluster
