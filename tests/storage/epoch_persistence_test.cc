// When a new leader epoch reaches the `leader-epoch-checkpoint` file: with
// the flush that makes its first batch durable (not on the append path), at
// close, and after a crash from the batches written since the last flush.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/checkpoint.h"
#include "storage/fault_injection_fs.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

class EpochPersistenceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> Open(const std::filesystem::path& dir, FileSystem* fs, bool clean) {
    return OpenLogOrFail(dir, LogConfig{}, {fs, clock_.fn(), clean});
  }
  // What the checkpoint file holds (empty when there is none).
  static std::vector<EpochEntry> InFile(const std::filesystem::path& dir) {
    Result<std::unique_ptr<LeaderEpochCache>> file = LeaderEpochCache::Load(FileSystem::Default(), dir);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? (*file)->entries() : std::vector<EpochEntry>{};
  }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(EpochPersistenceTest, NewEpochReachesTheFileWithTheFlushNotTheAppend) {
  FaultInjectionFileSystem fs;
  auto log = Open(dir_.path(), &fs, false);
  const uint64_t syncs = fs.sync_count();
  ASSERT_TRUE(AppendBatch(*log, 3, 1000, 16, /*epoch=*/0).ok());
  ASSERT_TRUE(AppendBatch(*log, 2, 1000, 16, /*epoch=*/4).ok());
  EXPECT_EQ(fs.sync_count(), syncs) << "an append must not sync";
  EXPECT_EQ(log->epochs(), (std::vector<EpochEntry>{{0, 0}, {4, 3}}));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / kLeaderEpochCheckpoint));
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(InFile(dir_.path()), (std::vector<EpochEntry>{{0, 0}, {4, 3}}));
  // Nothing new: the next flush leaves the file alone.
  const uint64_t after_first = fs.sync_count();
  ASSERT_TRUE(AppendBatch(*log, 1, 1000, 16, /*epoch=*/4).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(fs.sync_count(), after_first + 1) << "only the segment is synced";
}

TEST_F(EpochPersistenceTest, CloseWritesTheNewEpoch) {
  {
    auto log = Open(dir_.path(), FileSystem::Default(), false);
    ASSERT_TRUE(AppendBatch(*log, 2, 1000, 16, /*epoch=*/5).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  EXPECT_EQ(InFile(dir_.path()), (std::vector<EpochEntry>{{5, 0}}));
  auto log = Open(dir_.path(), FileSystem::Default(), true);
  EXPECT_EQ(log->epochs(), (std::vector<EpochEntry>{{5, 0}}));
}

TEST_F(EpochPersistenceTest, EpochOfBatchesWrittenAfterTheLastFlushIsTakenFromThemAfterACrash) {
  TempDir image;
  {
    auto log = Open(dir_.path(), FileSystem::Default(), false);
    ASSERT_TRUE(AppendBatch(*log, 4, 1000, 16, /*epoch=*/0).ok());
    ASSERT_TRUE(log->Flush().ok());
    ASSERT_TRUE(AppendBatch(*log, 3, 1000, 16, /*epoch=*/3).ok());  // not flushed
    // The files as a crash now would leave them, the batch written back by
    // the kernel but the new epoch not yet in the checkpoint file.
    std::filesystem::copy(dir_.path(), image.path(), std::filesystem::copy_options::recursive |
                                                         std::filesystem::copy_options::overwrite_existing);
  }
  ASSERT_EQ(InFile(image.path()), (std::vector<EpochEntry>{{0, 0}}));
  auto log = Open(image.path(), FileSystem::Default(), /*clean=*/false);
  ASSERT_EQ(log->log_end_offset(), 7);
  EXPECT_EQ(log->epochs(), (std::vector<EpochEntry>{{0, 0}, {3, 4}}));
  EXPECT_EQ(log->EndOffsetForEpoch(0), std::make_pair(0, int64_t{4}));
  EXPECT_EQ(InFile(image.path()), (std::vector<EpochEntry>{{0, 0}, {3, 4}}));
  EXPECT_FALSE(AppendBatch(*log, 1, 1000, 16, /*epoch=*/2).ok()) << "older than the recovered latest";
}

}  // namespace
}  // namespace sluice::storage
