// What closing a log syncs: only what is not durable yet, so stopping a
// broker with thousands of idle partitions costs no sync per partition,
// while unflushed data and changed indexes still reach the disk.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/fault_injection_fs.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

class CloseTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> Open(bool clean, bool new_dir = false) {
    return OpenLogOrFail(dir_.path(), config_, {&fs_, clock_.fn(), clean, new_dir});
  }

  TempDir dir_;
  FaultInjectionFileSystem fs_;
  FakeClock clock_;
  LogConfig config_ = [] {
    LogConfig c;
    c.index_interval_bytes = 64;  // an index entry every batch or two
    return c;
  }();
};

TEST_F(CloseTest, ANewLogNeverWrittenClosesWithoutASyncAndReopensEmpty) {
  auto log = Open(false, /*new_dir=*/true);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 1)
      << "only the segment's .log: empty indexes are not written";
  const uint64_t syncs = fs_.sync_count();
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(fs_.sync_count(), syncs);
  log = Open(/*clean=*/true);
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_TRUE(log->open_notes().empty()) << log->open_notes().front();
  ASSERT_TRUE(AppendBatch(*log, 2, 1000).ok());
  EXPECT_EQ(log->log_end_offset(), 2);
}

TEST_F(CloseTest, ALogWithNothingNewSinceItWasOpenedClosesWithoutASync) {
  {
    auto log = Open(false);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 1000 + i, 40).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  auto log = Open(/*clean=*/true);
  EXPECT_EQ(log->log_end_offset(), 40);
  const uint64_t syncs = fs_.sync_count();
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(fs_.sync_count(), syncs);
}

TEST_F(CloseTest, UnflushedDataAndChangedIndexesAreSyncedAtClose) {
  {
    auto log = Open(false);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 1000 + i, 40).ok());
    ASSERT_TRUE(log->Flush().ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 5000 + i, 40).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  // A power cut now keeps only what was synced: all of it.
  ASSERT_TRUE(fs_.DropUnsyncedData().ok());
  auto log = Open(/*clean=*/true);
  EXPECT_EQ(log->log_end_offset(), 45);
  EXPECT_TRUE(log->open_notes().empty()) << log->open_notes().front();
  Result<std::optional<TimestampLookup>> latest = log->FindOffsetByTimestamp(5004);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->offset, 44) << "the time index reached the disk with its final entry";
}

}  // namespace
}  // namespace sluice::storage
