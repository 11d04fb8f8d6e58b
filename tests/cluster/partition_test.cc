// Partition's own rules for what a request may see or change: the KIP-320
// leader-epoch check and the high-watermark bound on DeleteRecords.
#include "cluster/partition.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "model/record_batch_builder.h"
#include "storage/log.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

std::shared_ptr<storage::Log> OpenLog(const testing::TempDir& dir) {
  auto log = storage::Log::Open(dir.path(), storage::LogConfig{}, storage::LogOptions{});
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::shared_ptr<storage::Log>(std::move(*log)) : nullptr;
}

std::vector<uint8_t> Batch(int records) {
  model::RecordBatchBuilder builder;
  for (int i = 0; i < records; ++i) builder.Add(1000 + i, std::nullopt, model::AsBytes("v"));
  return builder.Build().value();
}

TEST(PartitionTest, LeaderEpochCheckFencesOlderAndDefersNewerEpochs) {
  testing::TempDir dir;
  Partition p({"t", 0}, TopicId{}, OpenLog(dir), /*leader_epoch=*/3);
  EXPECT_EQ(Partition::EpochCheck::kOk, p.CheckLeaderEpoch(-1));  // not given
  EXPECT_EQ(Partition::EpochCheck::kOk, p.CheckLeaderEpoch(3));
  EXPECT_EQ(Partition::EpochCheck::kFenced, p.CheckLeaderEpoch(2));
  EXPECT_EQ(Partition::EpochCheck::kFenced, p.CheckLeaderEpoch(0));
  EXPECT_EQ(Partition::EpochCheck::kUnknown, p.CheckLeaderEpoch(4));
}

// Records a consumer cannot see yet (above the high watermark) cannot be
// deleted, nor can a negative offset; a refused request changes nothing.
TEST(PartitionTest, DeleteRecordsStopsAtTheHighWatermark) {
  testing::TempDir dir;
  Partition p({"t", 0}, TopicId{}, OpenLog(dir), 0);
  auto batch = Batch(10);
  ASSERT_TRUE(p.Append(batch, -1).ok());
  ASSERT_TRUE(p.log().FlushTo(6).ok());
  p.OnFlushed();
  const int64_t hw = p.high_watermark();
  ASSERT_GE(hw, 6);
  EXPECT_TRUE(p.DeleteRecordsBefore(hw + 1).status().IsOutOfRange());
  EXPECT_TRUE(p.DeleteRecordsBefore(-1).status().IsOutOfRange());
  EXPECT_EQ(0, p.log_start_offset());
  auto low = p.DeleteRecordsBefore(4);
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  EXPECT_EQ(4, *low);
  EXPECT_EQ(4, p.log_start_offset());
  auto read = p.Read(4, 1 << 20, hw);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->slices.empty());
  EXPECT_TRUE(p.Read(3, 1 << 20, hw).status().IsOutOfRange());
}

}  // namespace
}  // namespace sluice::cluster
