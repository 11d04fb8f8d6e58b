// ListOffsets by timestamp at record granularity (Log::FindOffsetByTimestamp)
// and KIP-734's max timestamp (Log::FindMaxTimestamp): the answer is the
// first record whose timestamp reaches the target -- inside a batch, in any
// codec, in every segment (time index, then scan), after compaction removed
// records behind a batch's max timestamp, bounded by the log start offset.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "model/record_batch_builder.h"
#include "storage/cleaner_pass.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using model::Compression;
using sluice::testing::TempDir;
using namespace sluice::storage::testing;

constexpr int64_t kT0 = 1'700'000'000'000;

// One batch of records with these timestamps (key "k<i>", value "v<i>...").
std::vector<uint8_t> Batch(const std::vector<int64_t>& timestamps,
                           Compression codec = Compression::kNone,
                           model::RecordBatchOptions options = {}) {
  options.compression = codec;
  model::RecordBatchBuilder b(options);
  for (size_t i = 0; i < timestamps.size(); ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value = "v" + std::to_string(i) + std::string(40, 'x');
    b.Add(timestamps[i], model::AsBytes(key), model::AsBytes(value));
  }
  return b.Build().value();
}

std::vector<int64_t> Spaced(int n, int64_t first, int64_t step) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(first + i * step);
  return out;
}

class TimestampLookupTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> Open(bool clean = false) {
    return OpenLogOrFail(dir_.path(), config_, {FileSystem::Default(), clock_.fn(), clean});
  }
  static AppendResult Append(Log& log, std::vector<uint8_t> batch, int32_t epoch = 0) {
    Result<AppendResult> r = log.Append(batch, epoch);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AppendResult{};
  }
  // (offset, timestamp) of the answer, or (-1, -1) for none.
  static std::pair<int64_t, int64_t> At(Log& log, int64_t ts) {
    Result<std::optional<TimestampLookup>> r = log.FindOffsetByTimestamp(ts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !r->has_value()) return {-1, -1};
    return {(*r)->offset, (*r)->timestamp};
  }
  static std::pair<int64_t, int64_t> Max(Log& log) {
    Result<std::optional<TimestampLookup>> r = log.FindMaxTimestamp();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !r->has_value()) return {-1, -1};
    return {(*r)->offset, (*r)->timestamp};
  }

  TempDir dir_;
  FakeClock clock_;
  LogConfig config_;
};

class TimestampLookupCodecTest : public TimestampLookupTest,
                                 public ::testing::WithParamInterface<Compression> {};

// The reported case: twenty records one second apart in one batch; 5.5 s
// after the first is record 6 (at 6 s), not the batch's base offset.
TEST_P(TimestampLookupCodecTest, AnswersTheRecordInsideOneBatchNotTheBatch) {
  auto log = Open();
  Append(*log, Batch({kT0 - 5000}, GetParam()));  // offset 0, older
  Append(*log, Batch(Spaced(20, kT0, 1000), GetParam()));  // offsets 1..20
  EXPECT_EQ(At(*log, kT0 + 5500), std::make_pair(int64_t{7}, kT0 + 6000));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(At(*log, kT0 + i * 1000), std::make_pair(int64_t{1 + i}, kT0 + i * 1000)) << i;
    EXPECT_EQ(At(*log, kT0 + i * 1000 - 1), std::make_pair(int64_t{1 + i}, kT0 + i * 1000)) << i;
  }
  EXPECT_EQ(At(*log, kT0 - 6000), std::make_pair(int64_t{0}, kT0 - 5000));
  EXPECT_EQ(At(*log, kT0 + 19'001), std::make_pair(int64_t{-1}, int64_t{-1}));
  EXPECT_EQ(Max(*log), std::make_pair(int64_t{20}, kT0 + 19'000));
}

// Record timestamps need not be ordered within a batch: the first record (in
// offset order) at or above the target answers, and -3 names the record that
// carries the maximum, not the batch's last offset.
TEST_P(TimestampLookupCodecTest, UnorderedTimestampsInABatchAnswerTheFirstRecordReachingTheTarget) {
  auto log = Open();
  Append(*log, Batch({kT0 + 5000, kT0 + 1000, kT0 + 9000, kT0 + 3000, kT0 + 9000, kT0 + 2000},
                     GetParam()));
  EXPECT_EQ(At(*log, kT0 + 900), std::make_pair(int64_t{0}, kT0 + 5000));
  EXPECT_EQ(At(*log, kT0 + 6000), std::make_pair(int64_t{2}, kT0 + 9000));
  EXPECT_EQ(Max(*log), std::make_pair(int64_t{2}, kT0 + 9000));
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, TimestampLookupCodecTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kSnappy, Compression::kLz4,
                                           Compression::kZstd),
                         [](const ::testing::TestParamInfo<Compression>& codec) {
                           return std::string(compression::CodecName(codec.param));
                         });

// Many multi-record batches over many segments, so that the time and offset
// indexes pick where each search starts: every record's own timestamp, and
// the millisecond before it, find exactly that record -- also after a clean
// reopen (indexes loaded from their files) and after recovery (rebuilt).
TEST_F(TimestampLookupTest, EveryRecordOfEverySegmentIsFoundThroughTheIndexes) {
  config_.segment_bytes = 4096;
  config_.index_interval_bytes = 256;
  std::vector<std::pair<int64_t, int64_t>> records;  // (offset, ts)
  {
    auto log = Open();
    int64_t ts = kT0;
    for (int b = 0; b < 120; ++b) {
      const int n = 1 + b % 5;
      AppendResult r = Append(*log, Batch(Spaced(n, ts, 10), b % 3 == 0 ? Compression::kLz4
                                                                         : Compression::kNone));
      for (int i = 0; i < n; ++i) records.emplace_back(r.base_offset + i, ts + i * 10);
      ts += n * 10;
    }
    ASSERT_GT(log->segment_count(), 5u);
    ASSERT_TRUE(log->Close().ok());
  }
  for (bool clean : {true, false}) {
    auto log = Open(clean);
    for (const auto& [offset, ts] : records) {
      ASSERT_EQ(At(*log, ts), std::make_pair(offset, ts)) << "clean=" << clean;
      ASSERT_EQ(At(*log, ts - 5), std::make_pair(offset, ts)) << "clean=" << clean;
    }
    EXPECT_EQ(Max(*log), records.back());
    ASSERT_TRUE(log->Close().ok());
  }
}

// LogAppendTime: every record reports the batch's append time.
TEST_F(TimestampLookupTest, LogAppendTimeBatchAnswersItsFirstRecordAtTheAppendTime) {
  auto log = Open();
  Append(*log, Batch({kT0 + 1}, Compression::kNone,
                     {.timestamp_type = model::TimestampType::kLogAppendTime,
                      .log_append_time = kT0 + 100}));
  Append(*log, Batch(Spaced(5, kT0 + 1, 1), Compression::kZstd,
                     {.timestamp_type = model::TimestampType::kLogAppendTime,
                      .log_append_time = kT0 + 200}));
  EXPECT_EQ(At(*log, kT0 + 150), std::make_pair(int64_t{1}, kT0 + 200));
  EXPECT_EQ(Max(*log), std::make_pair(int64_t{1}, kT0 + 200));
}

// The answer never lies below the log start offset, even inside a batch that
// straddles it; -3 still names the largest timestamp's record.
TEST_F(TimestampLookupTest, LogStartOffsetInsideABatchBoundsTheAnswer) {
  auto log = Open();
  Append(*log, Batch(Spaced(10, kT0, 100)));  // offsets 0..9
  ASSERT_TRUE(log->AdvanceLogStartOffset(4).ok());
  EXPECT_EQ(At(*log, 0), std::make_pair(int64_t{4}, kT0 + 400));
  EXPECT_EQ(At(*log, kT0 + 150), std::make_pair(int64_t{4}, kT0 + 400));
  EXPECT_EQ(At(*log, kT0 + 650), std::make_pair(int64_t{7}, kT0 + 700));
}

// -3 picks the first segment holding the log's largest timestamp, and the
// leader epoch of the batch the record is in.
TEST_F(TimestampLookupTest, MaxTimestampIsTheFirstRecordCarryingItAcrossSegments) {
  config_.segment_bytes = 1024;
  auto log = Open();
  EXPECT_EQ(Max(*log), std::make_pair(int64_t{-1}, int64_t{-1}));  // empty log
  Append(*log, Batch(Spaced(3, kT0, 1)), 1);
  Append(*log, Batch({kT0 + 50, kT0 + 90'000, kT0 + 60}), 2);  // offset 4 has the max
  while (log->segment_count() < 4) Append(*log, Batch(Spaced(4, kT0 + 100, 1)), 3);
  Append(*log, Batch({kT0 + 90'000}), 3);  // the same max later: not the answer
  Result<std::optional<TimestampLookup>> m = log->FindMaxTimestamp();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->offset, 4);
  EXPECT_EQ((*m)->timestamp, kT0 + 90'000);
  EXPECT_EQ((*m)->leader_epoch, 2);
  Result<std::optional<TimestampLookup>> t = log->FindOffsetByTimestamp(kT0 + 55);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->offset, 4);
  EXPECT_EQ((*t)->leader_epoch, 2);
}

// The cleaner keeps a rewritten batch's header timestamps, so a batch may
// claim a max timestamp none of its surviving records has: the search goes
// on to the next record that does, across the compaction gap.
TEST_F(TimestampLookupTest, AfterCompactionTheNextSurvivingRecordAnswers) {
  config_.compact = true;
  config_.retention_ms = -1;
  config_.segment_bytes = 700;
  auto log = Open();
  // Offsets 0..3: a@T0, b@T0+1000, c@T0+3000 (superseded below), d@T0+4000 (superseded).
  model::RecordBatchBuilder first;
  first.Add(kT0, model::AsBytes("a"), model::AsBytes("1"));
  first.Add(kT0 + 1000, model::AsBytes("b"), model::AsBytes("1"));
  first.Add(kT0 + 3000, model::AsBytes("c"), model::AsBytes("1"));
  first.Add(kT0 + 4000, model::AsBytes("d"), model::AsBytes("1"));
  Append(*log, first.Build().value());
  Append(*log, Batch({kT0 + 5000}));  // offset 4, key k0
  model::RecordBatchBuilder later;
  later.Add(kT0 + 6000, model::AsBytes("c"), model::AsBytes("2"));  // offset 5
  later.Add(kT0 + 7000, model::AsBytes("d"), model::AsBytes("2"));  // offset 6
  Append(*log, later.Build().value());
  while (log->segment_count() < 3) {
    model::RecordBatchBuilder filler;
    filler.Add(kT0 + 8000, model::AsBytes("z"), model::AsBytes(std::string(100, 'z')));
    Append(*log, filler.Build().value());
  }
  clock_.Set(kT0 + 60'000);  // every record older than min.compaction.lag.ms (0)
  ASSERT_TRUE(log->Flush().ok());
  log->SetHighWatermark(log->log_end_offset());
  Result<CleanPassStats> pass = CleanLogOnce(*log, {.force = true});
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  ASSERT_GT(pass->records_removed, 0u);
  // Offsets 2 and 3 are gone; batch 0..3 still says max T0+4000.
  EXPECT_EQ(At(*log, kT0 + 2000), std::make_pair(int64_t{4}, kT0 + 5000));
  EXPECT_EQ(At(*log, kT0 + 500), std::make_pair(int64_t{1}, kT0 + 1000));
  EXPECT_EQ(At(*log, kT0 + 5500), std::make_pair(int64_t{5}, kT0 + 6000));
}

}  // namespace
}  // namespace sluice::storage
