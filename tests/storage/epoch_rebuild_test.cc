// A corrupt leader-epoch checkpoint is treated as missing: opening the log
// rebuilds the epoch history from the batch headers (as Kafka does).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/checkpoint.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

class EpochRebuildTest : public ::testing::Test {
 protected:
  EpochRebuildTest() { config_.segment_bytes = 600; }

  std::unique_ptr<Log> Open(bool clean) {
    return OpenLogOrFail(dir_.path(), config_, {FileSystem::Default(), clock_.fn(), clean});
  }

  // Epochs 0, 2 and 7, five batches each, over several segments.
  std::vector<EpochEntry> Build() {
    auto log = Open(false);
    for (int32_t epoch : {0, 2, 7}) {
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(AppendBatch(*log, 2, 1000, 30, epoch).ok());
    }
    EXPECT_GT(log->segment_count(), 2u);
    std::vector<EpochEntry> epochs = log->epochs();
    EXPECT_EQ(epochs, (std::vector<EpochEntry>{{0, 0}, {2, 10}, {7, 20}}));
    EXPECT_TRUE(log->Close().ok());
    return epochs;
  }

  void Corrupt(const std::string& text) {
    std::ofstream(dir_.path() / kLeaderEpochCheckpoint, std::ios::trunc) << text;
  }

  TempDir dir_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(EpochRebuildTest, CorruptCheckpointIsRebuiltFromTheBatches) {
  const std::vector<EpochEntry> expected = Build();
  const std::vector<std::string> corruptions = {
      "garbage", "0\n3\n0 0\n", "0\n2\n2 10\n0 0\n", "1\n1\n0 0\n", "0\n1\n-4 0\n", ""};
  for (bool clean : {true, false}) {
    for (const std::string& text : corruptions) {
      Corrupt(text);
      auto log = Open(clean);
      ASSERT_TRUE(log) << "'" << text << "'";
      EXPECT_EQ(log->epochs(), expected) << "'" << text << "'";
      EXPECT_EQ(log->EndOffsetForEpoch(2), std::make_pair(2, int64_t{20}));
      bool noted = false;
      for (const std::string& n : log->open_notes()) {
        noted = noted || n.find("rebuilt 3 leader epoch(s)") != std::string::npos;
      }
      EXPECT_TRUE(noted) << "'" << text << "'";
      // The rebuilt history was persisted.
      Result<std::unique_ptr<LeaderEpochCache>> file =
          LeaderEpochCache::Load(FileSystem::Default(), dir_.path());
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      EXPECT_EQ((*file)->entries(), expected);
      // New epochs continue the rebuilt history.
      ASSERT_TRUE(AppendBatch(*log, 1, 1000, 30, 7).ok());
      EXPECT_FALSE(AppendBatch(*log, 1, 1000, 30, 6).ok()) << "older than the rebuilt latest";
      ASSERT_TRUE(log->TruncateTo(30).ok());
      ASSERT_TRUE(log->Close().ok());
    }
  }
}

TEST_F(EpochRebuildTest, RebuiltHistoryStartsAtTheLogStart) {
  Build();
  {
    auto log = Open(true);
    ASSERT_TRUE(log->AdvanceLogStartOffset(14).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  Corrupt("not a checkpoint");
  auto log = Open(true);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_start_offset(), 14);
  EXPECT_EQ(log->epochs(), (std::vector<EpochEntry>{{2, 14}, {7, 20}}));
}

TEST_F(EpochRebuildTest, UnreadableCheckpointStillFailsTheOpen) {
  Build();
  // A directory in its place: an I/O error, not corruption.
  std::filesystem::remove(dir_.path() / kLeaderEpochCheckpoint);
  std::filesystem::create_directory(dir_.path() / kLeaderEpochCheckpoint);
  Result<std::unique_ptr<Log>> log =
      Log::Open(dir_.path(), config_, {FileSystem::Default(), clock_.fn(), true});
  EXPECT_FALSE(log.ok());
}

}  // namespace
}  // namespace sluice::storage
