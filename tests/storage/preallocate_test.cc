// Preallocation: a latency-bound log's active segment is zero-filled ahead of
// its data so that small fdatasyncs write no inode. What users rely on: the
// zeros are never served or counted as data, never survive as a gap, and
// every flushed message survives a power cut or a crash wherever the zeros
// were.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/fault_injection_fs.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;
namespace fs = std::filesystem;

constexpr uint64_t kChunk = 64 * 1024;

class PreallocateTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> Open(bool clean) {
    return OpenLogOrFail(dir_.path(), config_, {&fs_, clock_.fn(), clean, false});
  }
  uint64_t FileSize(int64_t base) {
    return fs::file_size(dir_.path() / SegmentFileName(base, ".log"));
  }
  // Appends `n` one-record batches, each flushed (the latency-bound case),
  // preallocating after each flush as the broker's flusher does.
  void AppendFlushed(Log& log, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(AppendBatch(log, 1, 1000 + i, 100).ok());
      ASSERT_TRUE(log.Flush().ok());
      ASSERT_TRUE(log.PreallocateIfLatencyBound(kChunk).ok());
    }
  }
  std::vector<model::RecordBatchHeader> ReadAll(Log& log) {
    Result<ReadResult> r = log.Read(log.log_start_offset(), 1 << 30);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Batches(SliceBytes(*r)) : std::vector<model::RecordBatchHeader>{};
  }

  TempDir dir_;
  FaultInjectionFileSystem fs_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(PreallocateTest, ZerosAheadAreSyncedButNeverReadOrCounted) {
  auto log = Open(false);
  AppendFlushed(*log, 10);
  const uint64_t data = log->size_bytes();
  EXPECT_GE(FileSize(0), data + kChunk / 4) << "zeros ahead of the data";
  EXPECT_EQ(fs_.synced_size(dir_.path() / SegmentFileName(0, ".log")), FileSize(0))
      << "the zeros are durable, so appends change no metadata";
  EXPECT_EQ(ReadAll(*log).size(), 10u);
  EXPECT_EQ(log->log_end_offset(), 10);
  ASSERT_TRUE(log->Close().ok());
}

TEST_F(PreallocateTest, ABusyLogIsNotPreallocated) {
  auto log = Open(false);
  // One flush round covering more than chunk/16 bytes: syncs carry enough
  // data that zeroing would only double the writes.
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 1000 + i, 200).ok());
  ASSERT_TRUE(log->Flush().ok());
  ASSERT_TRUE(log->PreallocateIfLatencyBound(kChunk).ok());
  EXPECT_EQ(FileSize(0), log->size_bytes());
  ASSERT_TRUE(log->Close().ok());
}

TEST_F(PreallocateTest, CleanCloseCutsTheZerosAndReopensAtTheSameEnd) {
  {
    auto log = Open(false);
    AppendFlushed(*log, 5);
    ASSERT_GT(FileSize(0), log->size_bytes());
    ASSERT_TRUE(log->Close().ok());
  }
  auto log = Open(/*clean=*/true);
  EXPECT_EQ(FileSize(0), log->size_bytes());
  EXPECT_EQ(fs_.synced_size(dir_.path() / SegmentFileName(0, ".log")), FileSize(0));
  EXPECT_EQ(log->log_end_offset(), 5);
  ASSERT_TRUE(AppendBatch(*log, 1, 2000).ok());
  EXPECT_EQ(ReadAll(*log).size(), 6u);
}

TEST_F(PreallocateTest, PowerLossKeepsFlushedDataAndTheZerosAreNotReportedAsLoss) {
  {
    auto log = Open(false);
    AppendFlushed(*log, 8);
    // Appended into the zeros but never flushed: lost with the power.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 5000 + i, 100).ok());
    ASSERT_TRUE(fs_.DropUnsyncedData().ok());
  }  // No Close: the machine lost power.
  auto log = Open(/*clean=*/false);
  EXPECT_EQ(log->log_end_offset(), 8);
  EXPECT_EQ(ReadAll(*log).size(), 8u);
  EXPECT_EQ(FileSize(0), log->size_bytes()) << "the zero tail is cut";
  for (const std::string& note : log->open_notes()) {
    EXPECT_EQ(note.find("truncated"), std::string::npos) << note;
  }
  ASSERT_TRUE(AppendBatch(*log, 1, 6000).ok());
  EXPECT_EQ(log->log_end_offset(), 9);
  EXPECT_EQ(ReadAll(*log).size(), 9u);
}

TEST_F(PreallocateTest, ATornWriteIntoTheZerosIsStillDroppedAsLoss) {
  uint64_t data = 0;
  {
    auto log = Open(false);
    AppendFlushed(*log, 4);
    data = log->size_bytes();
  }  // Crash without Close: the zero tail stays.
  ASSERT_GT(FileSize(0), data);
  // Half a batch landed in the zeros before the crash.
  std::vector<uint8_t> batch = MakeBatch(1, 9000, 100);
  {
    std::fstream f(dir_.path() / SegmentFileName(0, ".log"),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(data));
    f.write(reinterpret_cast<const char*>(batch.data()), static_cast<std::streamsize>(batch.size() / 2));
  }
  auto log = Open(/*clean=*/false);
  EXPECT_EQ(log->log_end_offset(), 4);
  EXPECT_EQ(FileSize(0), data);
  bool reported = false;
  for (const std::string& note : log->open_notes()) reported |= note.find("truncated") != std::string::npos;
  EXPECT_TRUE(reported) << "a torn batch is data lost, unlike zeros";
}

TEST_F(PreallocateTest, RollCutsAndSyncsTheOldSegmentsZerosSoLaterStartsTrustIt) {
  config_.segment_bytes = 4096;
  auto log = Open(false);
  AppendFlushed(*log, 80);  // ~170 B each: several segments
  std::vector<int64_t> bases = log->segment_bases();
  ASSERT_GE(bases.size(), 3u);
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    const fs::path path = dir_.path() / SegmentFileName(bases[i], ".log");
    EXPECT_LE(fs::file_size(path), 4096u) << "preallocation stops at segment.bytes";
    EXPECT_EQ(fs_.synced_size(path), fs::file_size(path)) << "segment " << bases[i];
  }
  // A crash now recovers the active segment and trusts the others: every
  // batch reads back and the offsets run without a gap.
  ASSERT_TRUE(log->CheckpointRecoveryPoint().ok());
  ASSERT_TRUE(fs_.DropUnsyncedData().ok());
  log.reset();
  log = Open(/*clean=*/false);
  std::vector<model::RecordBatchHeader> batches = ReadAll(*log);
  ASSERT_EQ(batches.size(), 80u);
  for (size_t i = 0; i < batches.size(); ++i) EXPECT_EQ(batches[i].base_offset, static_cast<int64_t>(i));
}

TEST_F(PreallocateTest, TruncationCutsTheZerosWithTheData) {
  auto log = Open(false);
  AppendFlushed(*log, 10);
  ASSERT_TRUE(log->TruncateTo(6).ok());
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(FileSize(0), log->size_bytes());
  ASSERT_TRUE(AppendBatch(*log, 1, 7000).ok());
  EXPECT_EQ(ReadAll(*log).size(), 7u);
  ASSERT_TRUE(log->Close().ok());
}

}  // namespace
}  // namespace sluice::storage
