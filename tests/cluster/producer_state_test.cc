#include "cluster/producer_state.h"

#include <gtest/gtest.h>

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
