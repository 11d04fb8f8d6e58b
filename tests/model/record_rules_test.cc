// The topic's rules for a producer's records (ValidationOptions::rules):
// which records are named, with which kind and message, and timestamp bounds
// compared exactly at the int64 extremes (this binary runs under UBSan in the
// asan build, so an overflow would fail it).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "model/record_batch_builder.h"
#include "model/record_batch_validator.h"
#include "model/varint.h"
#include "test_batches.h"

namespace sluice::model {
namespace {

using testing::FixCrc;
using testing::MustBuild;

constexpr int64_t kNow = 1'700'000'000'000;

struct In {
  int64_t timestamp;
  std::optional<std::string> key;
};

std::vector<uint8_t> Batch(const std::vector<In>& records, Compression c = Compression::kNone) {
  RecordBatchBuilder b({.compression = c});
  for (const In& r : records) {
    std::optional<Bytes> key;
    if (r.key) key = AsBytes(*r.key);
    b.Add(r.timestamp, key, AsBytes("v"));
  }
  return MustBuild(b);
}

RecordRules Rules(int64_t before = INT64_MAX, int64_t after = INT64_MAX, bool require_key = false) {
  RecordRules rules;
  rules.require_key = require_key;
  rules.now_ms = kNow;
  rules.before_max_ms = before;
  rules.after_max_ms = after;
  rules.topic = "t";
  rules.partition = 3;
  return rules;
}

// Validates with `rules`; the indexes named, in order.
std::vector<int32_t> Refused(std::span<const uint8_t> batch, const RecordRules& rules,
                             std::vector<RecordError>* errors = nullptr) {
  std::vector<RecordError> local;
  std::vector<RecordError>* out = errors != nullptr ? errors : &local;
  Status s = ValidateRecordBatch(batch, {.rules = &rules}, nullptr, out);
  EXPECT_EQ(s.ok(), out->empty()) << s.ToString();
  if (!s.ok()) {
    EXPECT_EQ(StatusCode::kInvalidArgument, s.code()) << s.ToString();
  }
  std::vector<int32_t> indexes;
  for (const RecordError& e : *out) indexes.push_back(e.batch_index);
  return indexes;
}

TEST(RecordRulesTest, EachKeylessRecordOnACompactedTopicIsNamed) {
  constexpr Compression kCompressedCodecs[] = {Compression::kNone, Compression::kZstd,
                                               Compression::kLz4};
  for (Compression c : kCompressedCodecs) {
    auto batch = Batch({{kNow, "a"}, {kNow, std::nullopt}, {kNow, ""}, {kNow, std::nullopt}}, c);
    std::vector<RecordError> errors;
    EXPECT_EQ((std::vector<int32_t>{1, 3}), Refused(batch, Rules(INT64_MAX, INT64_MAX, true), &errors));
    ASSERT_EQ(2u, errors.size());
    EXPECT_EQ(RecordError::Kind::kInvalidRecord, errors[0].kind);
    EXPECT_EQ("Compacted topic cannot accept message without key in topic partition t-3",
              errors[0].message);
    // Without the rule the same batch is fine.
    EXPECT_TRUE(Refused(batch, Rules()).empty());
  }
}

TEST(RecordRulesTest, SummaryCountsEveryErrorAndShowsTheFirstThree) {
  auto batch = Batch({{kNow, std::nullopt}, {kNow, std::nullopt}, {kNow, std::nullopt},
                      {kNow, std::nullopt}, {kNow, std::nullopt}});
  RecordRules rules = Rules(INT64_MAX, INT64_MAX, true);
  std::vector<RecordError> errors;
  Status s = ValidateRecordBatch(batch, {.rules = &rules}, nullptr, &errors);
  ASSERT_EQ(5u, errors.size());
  const std::string m = "Compacted topic cannot accept message without key in topic partition t-3";
  EXPECT_EQ("One or more records have been rejected due to 5 record errors in total, and only "
            "showing the first three errors at most: [RecordError(batchIndex=0, message='" + m +
                "'), RecordError(batchIndex=1, message='" + m + "'), RecordError(batchIndex=2, "
                "message='" + m + "')]",
            s.message());
  EXPECT_EQ(s.message(), RecordErrorsSummary(errors));
}

TEST(RecordRulesTest, TimestampBoundsAreInclusiveToTheMillisecond) {
  auto batch = Batch({{kNow - 1000, "a"}, {kNow - 1001, "b"}, {kNow + 500, "c"}, {kNow + 501, "d"},
                      {kNow, "e"}});
  std::vector<RecordError> errors;
  EXPECT_EQ((std::vector<int32_t>{1, 3}), Refused(batch, Rules(1000, 500), &errors));
  ASSERT_EQ(2u, errors.size());
  EXPECT_EQ(RecordError::Kind::kInvalidTimestamp, errors[0].kind);
  EXPECT_EQ("Timestamp 1699999998999 of message with offset 1 is out of range. The timestamp "
            "should be within [1699999999000, 1700000000500]",
            errors[0].message);
  EXPECT_EQ("One or more records have been rejected due to invalid timestamp",
            RecordErrorsSummary(errors));
}

TEST(RecordRulesTest, ExtremeTimestampsNeverOverflow) {
  auto batch = Batch({{INT64_MIN, "a"}, {INT64_MAX, "b"}, {-1, "c"}, {0, "d"}, {INT64_MIN + 1, "e"},
                      {INT64_MAX - 1, "f"}});
  // Unbounded sides (Kafka's default) take anything.
  EXPECT_TRUE(Refused(batch, Rules()).empty());
  // The largest finite bounds still refuse the far extremes: the true
  // distance from now to INT64_MIN exceeds INT64_MAX - 1.
  EXPECT_EQ((std::vector<int32_t>{0, 4}), Refused(batch, Rules(INT64_MAX - 1, INT64_MAX)));
  // -1 is "no timestamp": never refused, even with zero bounds.
  EXPECT_EQ((std::vector<int32_t>{0, 1, 3, 4, 5}), Refused(batch, Rules(0, 0)));
  // Now itself at the extremes.
  for (int64_t now : {INT64_MIN, INT64_MAX, int64_t{0}}) {
    RecordRules rules = Rules(0, 0);
    rules.now_ms = now;
    std::vector<RecordError> errors;
    Refused(batch, rules, &errors);
    for (const RecordError& e : errors) EXPECT_FALSE(e.message.empty());
  }
  RecordRules at_min = Rules(10, 10);
  at_min.now_ms = INT64_MIN;
  EXPECT_EQ((std::vector<int32_t>{1, 3, 5}), Refused(batch, at_min));
  RecordRules at_max = Rules(10, 10);
  at_max.now_ms = INT64_MAX;
  EXPECT_EQ((std::vector<int32_t>{0, 3, 4}), Refused(batch, at_max));
}

TEST(RecordRulesTest, KeyIsCheckedBeforeTheTimestamp) {
  auto batch = Batch({{0, std::nullopt}});
  std::vector<RecordError> errors;
  EXPECT_EQ((std::vector<int32_t>{0}), Refused(batch, Rules(0, 0, true), &errors));
  ASSERT_EQ(1u, errors.size());
  EXPECT_EQ(RecordError::Kind::kInvalidRecord, errors[0].kind);
}

TEST(RecordRulesTest, LogAppendTimeTopicsSkipTheBoundsButRefuseProducerStampedBatches) {
  auto batch = Batch({{INT64_MIN, "a"}, {INT64_MAX, "b"}});
  RecordRules rules = Rules(0, 0);
  rules.check_create_time = false;
  EXPECT_TRUE(Refused(batch, rules).empty());

  RecordBatchBuilder b({.timestamp_type = TimestampType::kLogAppendTime, .log_append_time = kNow});
  b.Add(kNow, AsBytes("k"), AsBytes("v"));
  b.Add(kNow, AsBytes("k"), AsBytes("v"));
  std::vector<RecordError> errors;
  EXPECT_EQ((std::vector<int32_t>{0, 1}), Refused(MustBuild(b), rules, &errors));
  EXPECT_EQ(RecordError::Kind::kInvalidTimestamp, errors[0].kind);
}

TEST(RecordRulesTest, AWrongOffsetDeltaNamesItsRecord) {
  auto batch = Batch({{kNow, "a"}, {kNow, "b"}});
  // Rewrite the second record's offset delta (1) as 5: the first record is
  // 1 (length) + 1 (attributes) + 1 (timestamp delta) + 1 (offset delta)
  // + 1 + 1 (key) + 1 + 1 (value) + 1 (headers) = 9 bytes.
  const size_t second = batch_layout::kHeaderSize + 9;
  ASSERT_EQ(2, batch[second + 3]);  // zig-zag varint of 1.
  batch[second + 3] = 10;           // zig-zag varint of 5.
  FixCrc(&batch);
  std::vector<RecordError> errors;
  Status s = ValidateRecordBatch(batch, {}, nullptr, &errors);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  ASSERT_EQ(1u, errors.size());
  EXPECT_EQ(1, errors[0].batch_index);
  EXPECT_EQ(RecordError::Kind::kInvalidRecord, errors[0].kind);
  EXPECT_EQ("record 1 has offset delta 5", errors[0].message);
}

}  // namespace
}  // namespace sluice::model
