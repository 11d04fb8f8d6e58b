#include "model/batch_sequence.h"

#include <gtest/gtest.h>

#include "model/record_batch_builder.h"
#include "model/record_batch_validator.h"
#include "test_batches.h"

namespace sluice::model {
namespace {

std::vector<uint8_t> Batch(int records, Compression c) {
  RecordBatchBuilder b({.compression = c});
  for (int i = 0; i < records; ++i) b.Add(i, std::nullopt, AsBytes("value"));
  return testing::MustBuild(b);
}

std::vector<uint8_t> ThreeBatches() {
  std::vector<uint8_t> all;
  for (auto [n, c] : {std::pair{1, Compression::kNone}, {5, Compression::kLz4}, {2, Compression::kZstd}}) {
    const std::vector<uint8_t> b = Batch(n, c);
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

TEST(BatchSequenceTest, SplitsConsecutiveBatches) {
  const std::vector<uint8_t> all = ThreeBatches();
  BatchSequence seq(all);
  std::span<const uint8_t> batch;
  std::vector<int32_t> counts;
  while (seq.Next(&batch)) {
    ASSERT_TRUE(ValidateRecordBatch(batch).ok());
    counts.push_back(ParseRecordBatchHeader(batch)->record_count);
  }
  EXPECT_TRUE(seq.status().ok()) << seq.status().ToString();
  EXPECT_EQ(counts, (std::vector<int32_t>{1, 5, 2}));
  EXPECT_EQ(seq.position(), all.size());
  BatchSequence empty({});
  EXPECT_FALSE(empty.Next(&batch));
  EXPECT_TRUE(empty.status().ok());
}

TEST(BatchSequenceTest, PartialTailIsAnErrorUnlessAllowed) {
  const std::vector<uint8_t> all = ThreeBatches();
  const size_t last = all.size() - Batch(2, Compression::kZstd).size();
  for (size_t cut = last + 1; cut < all.size(); ++cut) {
    std::span<const uint8_t> prefix(all.data(), cut);
    std::span<const uint8_t> batch;
    BatchSequence strict(prefix);
    int n = 0;
    while (strict.Next(&batch)) ++n;
    EXPECT_EQ(n, 2);
    EXPECT_TRUE(strict.status().IsCorruption()) << cut;

    BatchSequence fetch(prefix, /*allow_partial_tail=*/true);
    n = 0;
    while (fetch.Next(&batch)) ++n;
    EXPECT_EQ(n, 2);
    EXPECT_TRUE(fetch.status().ok());
    EXPECT_EQ(fetch.partial_tail_bytes(), cut - last);
    EXPECT_EQ(fetch.position(), last);
  }
}

TEST(BatchSequenceTest, RefusesLegacyMagicAndBadLengths) {
  std::vector<uint8_t> all = Batch(1, Compression::kNone);
  std::vector<uint8_t> legacy(40, 0);
  StoreBigEndian<int32_t>(legacy.data() + 8, 28);
  legacy[16] = 1;
  all.insert(all.end(), legacy.begin(), legacy.end());
  BatchSequence seq(all);
  std::span<const uint8_t> batch;
  EXPECT_TRUE(seq.Next(&batch));
  EXPECT_FALSE(seq.Next(&batch));
  EXPECT_EQ(seq.status().code(), StatusCode::kNotSupported) << seq.status().ToString();

  std::vector<uint8_t> bad = Batch(1, Compression::kNone);
  StoreBigEndian<int32_t>(bad.data() + batch_layout::kBatchLength, 3);
  BatchSequence seq2(bad);
  EXPECT_FALSE(seq2.Next(&batch));
  EXPECT_TRUE(seq2.status().IsCorruption());
}

}  // namespace
}  // namespace sluice::model
