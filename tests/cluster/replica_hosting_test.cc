// PartitionManager in a cluster: the controller decides which partitions a
// broker holds (HostReplicas / StopReplicas); they are never written to the
// broker's own topic table, survive a restart as logs on disk, and are not
// writable until made leader.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster/partition_manager.h"
#include "config/broker_config.h"
#include "model/record_batch_builder.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

config::BrokerConfig Config(const testing::TempDir& dir) {
  auto c = config::BrokerConfig::Build({}, "", {"log.dirs=" + dir.path().string()});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

std::vector<uint8_t> Batch(int records) {
  model::RecordBatchBuilder builder;
  for (int i = 0; i < records; ++i) builder.Add(1000 + i, std::nullopt, model::AsBytes("v"));
  return builder.Build().value();
}

Partition::Leadership Leader(int32_t epoch) {
  return Partition::Leadership{.local_id = 1, .leader_epoch = epoch, .partition_epoch = 0,
                               .replicas = {1}, .isr = {1}};
}

TEST(ReplicaHostingTest, HostsOnlyTheAssignedPartitionsAndKeepsThemAcrossARestart) {
  testing::TempDir dir;
  auto config = Config(dir);
  const TopicId id = NewTopicId();
  {
    auto pm = PartitionManager::Open(config);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    auto hosted = (*pm)->HostReplicas("orders", id, {1, 4}, {{"retention.ms", "60000"}});
    ASSERT_TRUE(hosted.ok()) << hosted.status().ToString();
    ASSERT_EQ(2u, hosted->size());
    EXPECT_EQ(nullptr, (*pm)->Get("orders", 0));
    EXPECT_EQ(nullptr, (*pm)->Get("orders", 2));
    auto p4 = (*pm)->Get("orders", 4);
    ASSERT_NE(nullptr, p4);
    EXPECT_EQ((*hosted)[1], p4);
    // Not writable until the controller makes it the leader.
    EXPECT_FALSE(p4->is_leader());
    auto batch = Batch(3);
    EXPECT_EQ(StatusCode::kNotLeader, p4->Append(batch, -1).status().code());
    p4->BecomeLeader(Leader(2), 0);
    ASSERT_TRUE(p4->Append(batch, -1).ok());
    auto cfg = (*pm)->TopicConfigOf("orders");
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(60000, cfg->retention_ms);
    // Hosting again (a repeated LeaderAndIsr) keeps the same replica.
    auto again = (*pm)->HostReplicas("orders", id, {4}, {});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(p4, (*again)[0]);
    EXPECT_TRUE(p4->is_leader());
    ASSERT_TRUE((*pm)->Close().ok());
  }
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  // Not in the broker's table: nothing is attached until the controller says so.
  EXPECT_EQ(nullptr, (*pm)->Get("orders", 4));
  auto hosted = (*pm)->HostReplicas("orders", id, {4}, {});
  ASSERT_TRUE(hosted.ok());
  EXPECT_EQ(3, (*hosted)[0]->log_end_offset());
  EXPECT_EQ(2, (*hosted)[0]->EndOffsetForEpoch(2).first);
  ASSERT_TRUE((*pm)->Close().ok());
}

// A broker that led, wrote a tail no follower copied, and crashed must not
// show that tail to consumers when it is hosted again (and perhaps made
// leader again before anyone reconciles it): its high watermark starts at
// its log start and only its ISR moves it.
TEST(ReplicaHostingTest, AHostedReplicaExposesNothingItsIsrHasNotConfirmed) {
  testing::TempDir dir;
  auto config = Config(dir);
  const TopicId id = NewTopicId();
  {
    auto pm = PartitionManager::Open(config);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    auto hosted = (*pm)->HostReplicas("t", id, {0}, {});
    ASSERT_TRUE(hosted.ok());
    std::shared_ptr<Partition> p = (*hosted)[0];
    // Led with followers that never fetched: the tail is not committed.
    p->BecomeLeader(Partition::Leadership{.local_id = 1, .leader_epoch = 1, .partition_epoch = 0,
                                          .replicas = {1, 2, 3}, .isr = {1, 2, 3}},
                    0);
    auto batch = Batch(3);
    ASSERT_TRUE(p->Append(batch, -1).ok());
    ASSERT_TRUE(p->log().Flush().ok());
    EXPECT_EQ(0, p->high_watermark());
    ASSERT_TRUE((*pm)->Close().ok());
  }
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  auto hosted = (*pm)->HostReplicas("t", id, {0}, {});
  ASSERT_TRUE(hosted.ok());
  std::shared_ptr<Partition> p = (*hosted)[0];
  EXPECT_EQ(3, p->log_end_offset());
  EXPECT_EQ(0, p->high_watermark());  // was 3: the whole flushed log
  // Told to lead again at the same epoch with the same ISR: still nothing.
  p->BecomeLeader(Partition::Leadership{.local_id = 1, .leader_epoch = 1, .partition_epoch = 0,
                                        .replicas = {1, 2, 3}, .isr = {1, 2, 3}},
                  0);
  EXPECT_EQ(0, p->high_watermark());
  // Alone in the ISR, its log is the committed one.
  p->BecomeLeader(Partition::Leadership{.local_id = 1, .leader_epoch = 2, .partition_epoch = 1,
                                        .replicas = {1, 2, 3}, .isr = {1}},
                  0);
  EXPECT_EQ(3, p->high_watermark());
  ASSERT_TRUE((*pm)->Close().ok());
}

TEST(ReplicaHostingTest, StopReplicaDetachesAndDeletesOnlyWhenAsked) {
  testing::TempDir dir;
  auto config = Config(dir);
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  const TopicId id = NewTopicId();
  ASSERT_TRUE((*pm)->HostReplicas("t", id, {0, 1}, {}).ok());
  auto p0 = (*pm)->Get("t", 0);
  p0->BecomeLeader(Leader(0), 0);
  auto batch = Batch(2);
  ASSERT_TRUE(p0->Append(batch, -1).ok());
  ASSERT_TRUE((*pm)->StopReplicas("t", {0}, /*delete_logs=*/false).ok());
  EXPECT_EQ(nullptr, (*pm)->Get("t", 0));
  EXPECT_NE(nullptr, (*pm)->Get("t", 1));
  EXPECT_FALSE(p0->is_leader());
  // Kept: hosting it again finds the data.
  auto back = (*pm)->HostReplicas("t", id, {0}, {});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(2, (*back)[0]->log_end_offset());
  ASSERT_TRUE((*pm)->StopReplicas("t", {0, 1}, /*delete_logs=*/true).ok());
  EXPECT_FALSE((*pm)->FindTopic("t").has_value());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "t-0"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "t-1"));
  // A topic of the broker's own table is not the controller's to host.
  ASSERT_TRUE((*pm)->CreateTopic("local", 1, 1, {}, false).ok());
  EXPECT_EQ(StatusCode::kInvalidArgument,
            (*pm)->HostReplicas("local", id, {0}, {}).status().code());
  ASSERT_TRUE((*pm)->Close().ok());
}

}  // namespace
}  // namespace sluice::cluster
