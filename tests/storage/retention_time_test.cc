// retention.ms for segments whose records carry no timestamp: they age by
// the .log file's mtime, as in Kafka (LogSegment.largestTimestamp).
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

constexpr int64_t kNoTimestamp = -1;

void SetMtime(const std::filesystem::path& path, int64_t ms) {
  timespec times[2];
  times[0].tv_sec = ms / 1000;
  times[0].tv_nsec = (ms % 1000) * 1'000'000;
  times[1] = times[0];
  ASSERT_EQ(0, ::utimensat(AT_FDCWD, path.c_str(), times, 0)) << path;
}

class RetentionTimeTest : public ::testing::Test {
 protected:
  RetentionTimeTest() {
    config_.segment_bytes = 600;
    config_.retention_ms = 60'000;
  }
  std::unique_ptr<Log> Open() {
    return OpenLogOrFail(dir_.path(), config_, {FileSystem::Default(), clock_.fn(), false});
  }
  std::filesystem::path LogFile(int64_t base) const {
    return dir_.path() / SegmentFileName(base, ".log");
  }

  TempDir dir_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(RetentionTimeTest, SegmentsWithoutTimestampsAgeByTheirFileMtime) {
  auto log = Open();
  while (log->segment_count() < 4) ASSERT_TRUE(AppendBatch(*log, 2, kNoTimestamp, 40).ok());
  const std::vector<int64_t> bases = log->segment_bases();
  // Two closed segments written "two hours ago", one a second ago.
  const int64_t old_ms = clock_.now() - 7'200'000;
  SetMtime(LogFile(bases[0]), old_ms);
  SetMtime(LogFile(bases[1]), old_ms);
  SetMtime(LogFile(bases[2]), clock_.now() - 1000);
  Result<RetentionResult> r = log->EnforceRetention();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->segments, 2);
  EXPECT_EQ(r->by_time, 2);
  EXPECT_EQ(log->log_start_offset(), bases[2]);
  EXPECT_FALSE(std::filesystem::exists(LogFile(bases[0])));
  EXPECT_TRUE(std::filesystem::exists(LogFile(bases[2])));
  // Once it is old too, the next one goes; never the active one.
  SetMtime(LogFile(bases[2]), old_ms);
  SetMtime(LogFile(bases[3]), old_ms);
  EXPECT_EQ(log->EnforceRetention()->segments, 1);
  EXPECT_EQ(log->segment_bases(), std::vector<int64_t>{bases[3]});
}

TEST_F(RetentionTimeTest, RecordTimestampsWinOverTheMtime) {
  auto log = Open();
  // A segment without timestamps, then one whose records are recent.
  while (log->segment_count() < 2) ASSERT_TRUE(AppendBatch(*log, 2, kNoTimestamp, 40).ok());
  while (log->segment_count() < 3) ASSERT_TRUE(AppendBatch(*log, 2, clock_.now(), 40).ok());
  const std::vector<int64_t> bases = log->segment_bases();
  const int64_t old_ms = clock_.now() - 7'200'000;
  for (int64_t b : bases) SetMtime(LogFile(b), old_ms);
  // The second segment holds recent records: kept whatever its mtime.
  EXPECT_EQ(log->EnforceRetention()->segments, 1);
  EXPECT_EQ(log->log_start_offset(), bases[1]);
}

}  // namespace
}  // namespace sluice::storage
