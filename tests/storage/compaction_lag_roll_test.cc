// max.compaction.lag.ms on a slow compacted log: the cleaner never touches
// the active segment, so an append rolls it once its first record is older
// than max.compaction.lag.ms (Kafka caps segment.ms by it on compacted logs),
// and the next cleaning compacts those records on time. Time is the log's
// injected clock and the batches' own timestamps; nothing sleeps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/record_batch_builder.h"
#include "storage/cleaner_pass.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

constexpr int64_t kLagMs = 60'000;

class CompactionLagRollTest : public ::testing::Test {
 protected:
  CompactionLagRollTest() {
    config_.compact = true;
    config_.retention_ms = -1;
    config_.max_compaction_lag_ms = kLagMs;
  }
  std::unique_ptr<Log> Open() {
    return OpenLogOrFail(dir_.path(), config_, {FileSystem::Default(), clock_.fn(), false});
  }
  // One record of `key` stamped now (or with no timestamp: -1).
  void Put(Log& log, const std::string& key, bool stamped = true) {
    model::RecordBatchBuilder b;
    b.Add(stamped ? clock_.now() : -1, model::AsBytes(key), model::AsBytes("v" + std::to_string(n_++)));
    std::vector<uint8_t> batch = b.Build().value();
    Result<AppendResult> r = log.Append(batch, 0);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  static CleanPassStats Clean(Log& log) {
    EXPECT_TRUE(log.Flush().ok());
    log.SetHighWatermark(log.log_end_offset());
    Result<CleanPassStats> r = CleanLogOnce(log, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CleanPassStats{};
  }

  TempDir dir_;
  FakeClock clock_;
  LogConfig config_;
  int n_ = 0;
};

TEST_F(CompactionLagRollTest, AppendRollsTheActiveSegmentOnceItsFirstRecordOutlivesTheLag) {
  auto log = Open();
  Put(*log, "a");
  Put(*log, "a");
  clock_.Advance(kLagMs);  // exactly the lag: not yet older than it
  Put(*log, "b");
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_FALSE(Clean(*log).ran) << "all in the active segment";
  clock_.Advance(1);
  Put(*log, "a");
  EXPECT_EQ(log->segment_count(), 2u) << "rolled at max.compaction.lag.ms, long before segment.ms";
  // The closed segment is cleanable now, and cleaned.
  CleanPassStats pass = Clean(*log);
  EXPECT_TRUE(pass.ran);
  EXPECT_EQ(pass.records_removed, 1u);  // offset 0, superseded by offset 1
}

TEST_F(CompactionLagRollTest, BatchesWithoutTimestampsRollByTheClock) {
  auto log = Open();
  Put(*log, "a", /*stamped=*/false);
  clock_.Advance(kLagMs + 1);
  Put(*log, "a", /*stamped=*/false);
  EXPECT_EQ(log->segment_count(), 2u);
}

TEST_F(CompactionLagRollTest, OnlyCompactedLogsRollAtTheCompactionLag) {
  config_.compact = false;
  auto log = Open();
  Put(*log, "a");
  clock_.Advance(kLagMs + 1);
  Put(*log, "a");
  EXPECT_EQ(log->segment_count(), 1u) << "segment.ms (7 days) governs a non-compacted log";
}

TEST_F(CompactionLagRollTest, SegmentMsStillRollsWhenShorterThanTheLag) {
  config_.segment_ms = 1000;
  auto log = Open();
  Put(*log, "a");
  clock_.Advance(1001);
  Put(*log, "a");
  EXPECT_EQ(log->segment_count(), 2u);
}

TEST_F(CompactionLagRollTest, ConfigUpdateAppliesTheLagToTheActiveSegment) {
  config_.max_compaction_lag_ms = LogConfig::kUnbounded;
  auto log = Open();
  Put(*log, "a");
  clock_.Advance(kLagMs + 1);
  LogConfig lagged = config_;
  lagged.max_compaction_lag_ms = kLagMs;
  log->UpdateConfig(lagged);
  Put(*log, "a");
  EXPECT_EQ(log->segment_count(), 2u);
}

}  // namespace
}  // namespace sluice::storage
