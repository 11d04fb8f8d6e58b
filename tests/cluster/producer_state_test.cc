#include "cluster/producer_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cluster/partition.h"
#include "model/record_batch_builder.h"
#include "storage/log.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

model::RecordBatchHeader Batch(int64_t pid, int16_t epoch, int32_t seq, int32_t records) {
  model::RecordBatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.last_offset_delta = records - 1;
  h.record_count = records;
  return h;
}

TEST(ProducerStateTest, RetriedBatchIsADuplicateWithItsOriginalOffsets) {
  ProducerStateTable table;
  std::optional<BatchMetadata> dup;
  auto first = Batch(7, 0, 0, 3);
  ASSERT_EQ(SequenceCheck::kAccept, table.Check(first, &dup));
  table.Record(first, 100, 0);
  ASSERT_EQ(SequenceCheck::kDuplicate, table.Check(first, &dup));
  EXPECT_EQ(100, dup->first_offset);
  EXPECT_EQ(102, dup->last_offset);
}

TEST(ProducerStateTest, NextSequenceAcceptedGapRefused) {
  ProducerStateTable table;
  std::optional<BatchMetadata> dup;
  table.Record(Batch(7, 0, 0, 3), 0, 0);
  EXPECT_EQ(SequenceCheck::kAccept, table.Check(Batch(7, 0, 3, 1), &dup));
  EXPECT_EQ(SequenceCheck::kOutOfOrder, table.Check(Batch(7, 0, 5, 1), &dup));
  EXPECT_EQ(SequenceCheck::kOutOfOrder, table.Check(Batch(7, 0, 1, 1), &dup));
}

TEST(ProducerStateTest, OnlyTheLastFiveBatchesAreRemembered) {
  ProducerStateTable table;
  std::optional<BatchMetadata> dup;
  for (int i = 0; i < 6; ++i) table.Record(Batch(7, 0, i, 1), i, 0);
  EXPECT_EQ(SequenceCheck::kDuplicate, table.Check(Batch(7, 0, 1, 1), &dup));
  EXPECT_NE(SequenceCheck::kDuplicate, table.Check(Batch(7, 0, 0, 1), &dup));
}

TEST(ProducerStateTest, EpochRules) {
  ProducerStateTable table;
  std::optional<BatchMetadata> dup;
  table.Record(Batch(7, 3, 10, 1), 0, 0);
  EXPECT_EQ(SequenceCheck::kStaleEpoch, table.Check(Batch(7, 2, 11, 1), &dup));
  EXPECT_EQ(SequenceCheck::kAccept, table.Check(Batch(7, 4, 0, 1), &dup));
  EXPECT_EQ(SequenceCheck::kOutOfOrder, table.Check(Batch(7, 4, 5, 1), &dup));
}

TEST(ProducerStateTest, TruncationForgetsBatchesAtOrAfterTheOffset) {
  ProducerStateTable table;
  std::optional<BatchMetadata> dup;
  table.Record(Batch(7, 0, 0, 2), 0, 0);
  table.Record(Batch(7, 0, 2, 2), 2, 0);
  table.TruncateFrom(2);
  EXPECT_EQ(SequenceCheck::kAccept, table.Check(Batch(7, 0, 2, 2), &dup));
  table.TruncateFrom(0);
  EXPECT_EQ(0u, table.producer_count());
}

}  // namespace
}  // namespace sluice::cluster

// Partition::RebuildProducerState reads the batch headers back after a
// restart; small batches share a buffered read, a large one is skipped.
namespace sluice::cluster {
namespace {

std::vector<uint8_t> IdempotentBatch(int32_t seq, int records, size_t value_bytes) {
  model::RecordBatchBuilder b({.producer_id = 7, .producer_epoch = 0, .base_sequence = seq});
  const std::string value(value_bytes, 'v');
  for (int i = 0; i < records; ++i) b.Add(1'700'000'000'000, std::nullopt, model::AsBytes(value));
  return *b.Build();
}

TEST(PartitionRebuildTest, ProducerStateSurvivesARestartOverSmallAndLargeBatches) {
  sluice::testing::TempDir dir;
  auto opened = storage::Log::Open(dir.path(), storage::LogConfig{}, {});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::shared_ptr<storage::Log> log = std::move(*opened);
  const storage::TopicPartition tp{"t", 0};
  int32_t seq = 0;
  std::vector<uint8_t> last;
  {
    Partition p(tp, TopicId{}, log, 0);
    // ~3 000 one-record batches (several buffers), one ~100 KiB batch, more small ones.
    for (int i = 0; i < 3000; ++i, ++seq) {
      last = IdempotentBatch(seq, 1, 50);
      ASSERT_EQ(p.Append(last, -1)->check, SequenceCheck::kAccept) << i;
    }
    last = IdempotentBatch(seq, 100, 1000);
    ASSERT_EQ(p.Append(last, -1)->check, SequenceCheck::kAccept);
    seq += 100;
    for (int i = 0; i < 10; ++i, ++seq) {
      last = IdempotentBatch(seq, 1, 50);
      ASSERT_EQ(p.Append(last, -1)->check, SequenceCheck::kAccept) << i;
    }
  }
  Partition restarted(tp, TopicId{}, log, 0);
  ASSERT_TRUE(restarted.RebuildProducerState(64 << 20).ok());
  auto again = restarted.Append(last, -1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->check, SequenceCheck::kDuplicate);
  EXPECT_EQ(again->last_offset, log->log_end_offset() - 1);
  std::vector<uint8_t> gap = IdempotentBatch(seq + 1, 1, 50);
  EXPECT_EQ(restarted.Append(gap, -1)->check, SequenceCheck::kOutOfOrder);
  std::vector<uint8_t> next = IdempotentBatch(seq, 1, 50);
  EXPECT_EQ(restarted.Append(next, -1)->check, SequenceCheck::kAccept);
}

}  // namespace
}  // namespace sluice::cluster
