// Injected disk faults surface as Status values and never lose data silently.
#include <gtest/gtest.h>

#include "storage/fault_injection_fs.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

class FaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> OpenLog(FileSystem* fs) {
    return OpenLogOrFail(dir_.path(), config_, {fs, clock_.fn(), false});
  }
  uint64_t ActiveSize(Log& log) {
    return std::filesystem::file_size(dir_.path() /
                                      SegmentFileName(log.segment_bases().back(), ".log"));
  }

  TempDir dir_;
  FaultInjectionFileSystem fs_;
  FakeClock clock_;
  LogConfig config_ = [] {
    LogConfig c;
    c.segment_bytes = 2048;
    return c;
  }();
};

TEST_F(FaultTest, NoSpaceDuringAppendCutsThePartialBatchAndTheLogStaysUsable) {
  auto log = OpenLog(&fs_);
  ASSERT_TRUE(AppendBatch(*log, 3, 1).ok());
  const uint64_t size = ActiveSize(*log);
  fs_.FailWrites(Status::FromErrno(ENOSPC, "injected"), /*partial_bytes=*/40);
  Result<AppendResult> r = AppendBatch(*log, 3, 2);
  EXPECT_TRUE(r.status().IsNoSpace()) << r.status().ToString();
  EXPECT_EQ(log->log_end_offset(), 3);
  EXPECT_EQ(ActiveSize(*log), size);  // the 40 partial bytes are gone
  EXPECT_TRUE(log->health().ok());
  fs_.ClearFaults();
  Result<AppendResult> ok = AppendBatch(*log, 3, 3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->base_offset, 3);
  log.reset();
  auto reopened = OpenLog(FileSystem::Default());
  EXPECT_EQ(reopened->log_end_offset(), 6);
  EXPECT_EQ(Batches(SliceBytes(*reopened->Read(0, 1 << 20))).size(), 2u);
}

TEST_F(FaultTest, IoErrorWhoseCleanupAlsoFailsMarksTheLogFailed) {
  auto log = OpenLog(&fs_);
  ASSERT_TRUE(AppendBatch(*log, 3, 1).ok());
  fs_.FailWrites(Status::FromErrno(EIO, "injected"), 40);
  fs_.FailTruncates(Status::FromErrno(EIO, "injected"));
  EXPECT_TRUE(AppendBatch(*log, 3, 2).status().IsIOError());
  fs_.ClearFaults();
  EXPECT_TRUE(log->health().IsIOError());
  EXPECT_TRUE(AppendBatch(*log, 1, 3).status().IsIOError());  // refuses further writes
  EXPECT_TRUE(log->Flush().IsIOError());
  log.reset();
  auto reopened = OpenLog(FileSystem::Default());  // recovery cuts the 40 bytes
  EXPECT_EQ(reopened->log_end_offset(), 3);
  EXPECT_EQ(AppendBatch(*reopened, 1, 4)->base_offset, 3);
}

TEST_F(FaultTest, FsyncErrorFailsTheFlushAndEveryLaterWrite) {
  auto log = OpenLog(&fs_);
  ASSERT_TRUE(AppendBatch(*log, 3, 1).ok());
  fs_.FailSyncs(Status::FromErrno(EIO, "injected"));
  EXPECT_TRUE(log->Flush().IsIOError());
  EXPECT_EQ(log->flushed_offset(), 0);
  fs_.ClearFaults();
  EXPECT_TRUE(AppendBatch(*log, 1, 2).status().IsIOError());
  EXPECT_TRUE(log->Flush().IsIOError());
}

TEST_F(FaultTest, NoSpaceWhileRollingLeavesTheLogUnchanged) {
  auto log = OpenLog(&fs_);
  int64_t leo = 0;
  while (log->segment_count() == 1) {
    Result<AppendResult> r = AppendBatch(*log, 1, 1, 100);
    ASSERT_TRUE(r.ok());
    leo = r->last_offset + 1;
    if (log->segment_count() > 1) break;
    // Fail the next roll: index writes fail with ENOSPC.
  }
  fs_.FailWrites(Status::FromErrno(ENOSPC, "injected"));
  Status failed;
  int attempts = 0;
  while (attempts++ < 100) {
    Result<AppendResult> r = AppendBatch(*log, 1, 1, 100);
    if (!r.ok()) {
      failed = r.status();
      break;
    }
  }
  EXPECT_TRUE(failed.IsNoSpace()) << failed.ToString();
  const int64_t before = log->log_end_offset();
  fs_.ClearFaults();
  Result<AppendResult> r = AppendBatch(*log, 1, 1, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->base_offset, before);
  EXPECT_GE(before, leo);
}

TEST_F(FaultTest, FlushMessagesPolicyReportsTheSyncFailureToTheAppender) {
  config_.flush_messages = 1;
  auto log = OpenLog(&fs_);
  fs_.FailSyncs(Status::FromErrno(ENOSPC, "injected"));
  EXPECT_TRUE(AppendBatch(*log, 1, 1).status().IsNoSpace());
}

}  // namespace
}  // namespace sluice::storage
