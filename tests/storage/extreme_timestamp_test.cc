// Client-chosen values at their extremes: a producer may stamp a batch with
// any int64 timestamp (INT64_MIN, INT64_MAX, -1 for none) and any offset
// delta, mixed in one segment. Every computation storage makes on them --
// the segment roll check, the time index, lookups, retention by time, the
// cleaner's tombstone expiry, offset assignment -- must stay defined (these
// tests run under UBSan with no recovery) and give the sensible answer.
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "base/endian.h"
#include "model/record_batch_builder.h"
#include "storage/cleaner_pass.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kFirstTimestamp = 1'700'000'000'019;

class ExtremeTimestampTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> Open(bool clean = false) {
    return OpenLogOrFail(dir_.path(), config_, {FileSystem::Default(), clock_.fn(), clean});
  }
  static void Append(Log& log, int64_t ts) {
    Result<AppendResult> r = AppendBatch(log, 1, ts);
    ASSERT_TRUE(r.ok()) << ts << ": " << r.status().ToString();
  }
  static int64_t OffsetAt(Log& log, int64_t ts) {
    Result<std::optional<TimestampLookup>> r = log.FindOffsetByTimestamp(ts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->has_value() ? (*r)->offset : -1;
  }

  TempDir dir_;
  FakeClock clock_;
  LogConfig config_;
};

// The reported crash: INT64_MIN after a real first timestamp made
// `max_timestamp - first_batch_timestamp` overflow in the roll check.
TEST_F(ExtremeTimestampTest, RollCheckWithInt64MinAfterARealFirstTimestampDoesNotOverflow) {
  config_.segment_ms = 1000;
  auto log = Open();
  Append(*log, kFirstTimestamp);
  Append(*log, kMin);  // "waited" is hugely negative: no roll
  EXPECT_EQ(log->segment_count(), 1u);
  Append(*log, kMax);  // waited saturates at INT64_MAX > segment.ms: roll
  EXPECT_EQ(log->segment_count(), 2u);
  Append(*log, kMin);  // first timestamp INT64_MAX now: MIN - MAX saturates too
  Append(*log, -1);
  EXPECT_EQ(log->segment_count(), 2u);
  EXPECT_EQ(log->log_end_offset(), 5);
}

// A segment whose first batch has no timestamp rolls by wall-clock time,
// whatever later batches claim.
TEST_F(ExtremeTimestampTest, SegmentWithoutAFirstTimestampRollsByTheClockWhateverLaterBatchesSay) {
  config_.segment_ms = 1000;
  auto log = Open();
  Append(*log, -1);
  Append(*log, kMax);
  Append(*log, kMin);
  EXPECT_EQ(log->segment_count(), 1u);
  clock_.Advance(1001);
  Append(*log, kMin);
  EXPECT_EQ(log->segment_count(), 2u);
}

// -1, INT64_MIN, a real time, INT64_MAX and 0 in one segment: the time index
// only ever holds increasing non-negative maxima, lookups find the first
// record at or above each target, and all of it survives a clean reopen
// (index files) and a recovery (rebuilt).
TEST_F(ExtremeTimestampTest, MixedExtremesInOneSegmentKeepIndexesAndLookupsConsistent) {
  config_.index_interval_bytes = 0;  // an index entry per batch
  {
    auto log = Open();
    for (int64_t ts :
         {int64_t{-1}, kMin, kFirstTimestamp, kMax, int64_t{0}, int64_t{-1}, kMax - 1}) {
      Append(*log, ts);
    }
    ASSERT_TRUE(log->Close().ok());
  }
  for (bool clean : {true, false}) {
    auto log = Open(clean);
    EXPECT_EQ(OffsetAt(*log, kMin), 0) << clean;  // -1 >= INT64_MIN
    EXPECT_EQ(OffsetAt(*log, -1), 0) << clean;
    EXPECT_EQ(OffsetAt(*log, 0), 2) << clean;
    EXPECT_EQ(OffsetAt(*log, kFirstTimestamp + 1), 3) << clean;
    EXPECT_EQ(OffsetAt(*log, kMax), 3) << clean;
    Result<std::optional<TimestampLookup>> max = log->FindMaxTimestamp();
    ASSERT_TRUE(max.ok() && max->has_value());
    EXPECT_EQ((*max)->offset, 3);
    EXPECT_EQ((*max)->timestamp, kMax);
    ASSERT_TRUE(log->Close().ok());
  }
}

void SetMtime(const std::filesystem::path& path, int64_t ms) {
  timespec times[2];
  times[0].tv_sec = ms / 1000;
  times[0].tv_nsec = (ms % 1000) * 1'000'000;
  times[1] = times[0];
  ASSERT_EQ(0, ::utimensat(AT_FDCWD, path.c_str(), times, 0)) << path;
}

// Retention by time: a segment of INT64_MIN stamps counts as having no
// timestamp (its file's mtime ages it); one stamped INT64_MAX is from the
// future and stays, as do all after it. retention.ms = INT64_MAX keeps all.
TEST_F(ExtremeTimestampTest, RetentionByTimeHandlesInt64MinAndMaxSegments) {
  config_.segment_bytes = 300;
  config_.retention_ms = 60'000;
  auto log = Open();
  while (log->segment_count() < 2) Append(*log, kMin);
  while (log->segment_count() < 3) Append(*log, kMax);
  Append(*log, kFirstTimestamp);
  const std::vector<int64_t> bases = log->segment_bases();
  SetMtime(dir_.path() / SegmentFileName(bases[0], ".log"), clock_.now() - 3'600'000);
  SetMtime(dir_.path() / SegmentFileName(bases[1], ".log"), clock_.now() - 3'600'000);
  LogConfig keep_all = config_;
  keep_all.retention_ms = kMax;
  log->UpdateConfig(keep_all);
  clock_.Set(kMax - 5);  // even at the end of time nothing is older than INT64_MAX ms
  Result<RetentionResult> none = log->EnforceRetention();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->segments, 0);
  log->UpdateConfig(config_);
  clock_.Set(kFirstTimestamp);
  Result<RetentionResult> r = log->EnforceRetention();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->by_time, 1);  // the INT64_MIN segment, by mtime; INT64_MAX stays
  EXPECT_EQ(log->segment_bases().front(), bases[1]);
}

// A kept tombstone's expiry is its segment's max timestamp plus
// delete.retention.ms: near INT64_MAX that sum must saturate.
TEST_F(ExtremeTimestampTest, TombstoneExpiryNearInt64MaxSaturates) {
  config_.compact = true;
  config_.retention_ms = -1;
  config_.segment_bytes = 200;
  auto log = Open();
  clock_.Set(kMax - 10);
  for (int i = 0; log->segment_count() < 3; ++i) {
    model::RecordBatchBuilder b;
    b.Add(kMax - 20, model::AsBytes("k" + std::to_string(i % 3)), std::nullopt);  // tombstones
    b.Add(kMax - 20, model::AsBytes("x"), model::AsBytes("value"));
    std::vector<uint8_t> batch = b.Build().value();
    ASSERT_TRUE(log->Append(batch, 0).ok());
  }
  ASSERT_TRUE(log->Flush().ok());
  log->SetHighWatermark(log->log_end_offset());
  Result<CleanPassStats> pass = CleanLogOnce(*log, {.force = true});
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->ran);
}

// Offsets: a batch whose last_offset_delta would carry the log end offset
// past INT64_MAX is refused rather than wrapped.
TEST_F(ExtremeTimestampTest, AppendRefusesAnOffsetDeltaRunningPastTheLargestOffset) {
  const int64_t base = kMax - 1000;
  std::ofstream(dir_.path() / SegmentFileName(base, ".log")).close();
  auto log = Open();
  ASSERT_EQ(log->log_end_offset(), base);
  std::vector<uint8_t> batch = MakeBatch(1, kFirstTimestamp);
  StoreBigEndian(batch.data() + model::batch_layout::kLastOffsetDelta,
                 std::numeric_limits<int32_t>::max());
  Result<AppendResult> r = log->Append(batch, 0);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(log->log_end_offset(), base);
  Append(*log, kFirstTimestamp);
  EXPECT_EQ(log->log_end_offset(), base + 1);
}

}  // namespace
}  // namespace sluice::storage
