// Crash recovery: torn and corrupt tails, damaged indexes, the clean-shutdown
// and recovery-point shortcuts, and simulated power loss.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/endian.h"
#include "storage/checkpoint.h"
#include "storage/fault_injection_fs.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using namespace sluice::storage::testing;

std::vector<uint8_t> ReadFileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFileBytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() {
    config_.segment_bytes = 2048;
    config_.index_interval_bytes = 128;
  }

  std::unique_ptr<Log> OpenLog(const fs::path& dir, bool clean = false) {
    return OpenLogOrFail(dir, config_, {fs_, clock_.fn(), clean});
  }

  // A log of several segments written without Close (an unclean stop).
  // Returns every batch appended.
  std::vector<AppendResult> Build(const fs::path& dir, int batches) {
    auto log = OpenLog(dir);
    std::vector<AppendResult> out;
    for (int i = 0; i < batches; ++i) {
      Result<AppendResult> r = AppendBatch(*log, 1 + i % 3, 1000 + i, 30);
      EXPECT_TRUE(r.ok());
      out.push_back(*r);
    }
    return out;
  }

  // Opens a copy of `src` after `mutate` damaged it; checks the log keeps
  // exactly the batches before `first_lost` and appends right after them.
  void ExpectRecoversTo(const fs::path& src, const std::function<void(const fs::path&)>& mutate,
                        const std::vector<AppendResult>& batches, size_t first_lost,
                        const std::string& what) {
    TempDir copy;
    fs::copy(src, copy.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    mutate(copy.path());
    auto log = OpenLog(copy.path());
    ASSERT_TRUE(log) << what;
    const int64_t expected_leo =
        first_lost == 0 ? 0 : batches[first_lost - 1].last_offset + 1;
    ASSERT_EQ(log->log_end_offset(), expected_leo) << what;
    Result<ReadResult> all = log->Read(0, 1 << 30);
    ASSERT_TRUE(all.ok()) << what;
    auto hs = Batches(SliceBytes(*all));
    ASSERT_EQ(hs.size(), first_lost) << what;
    Result<AppendResult> next = AppendBatch(*log, 2, 5000);
    ASSERT_TRUE(next.ok()) << what;
    EXPECT_EQ(next->base_offset, expected_leo) << what;
    EXPECT_EQ(log->Read(expected_leo, 1)->first_offset, expected_leo) << what;
  }

  FileSystem* fs_ = FileSystem::Default();
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(RecoveryTest, TornLastBatchAtEveryByteKeepsEveryCompleteBatchBefore) {
  TempDir dir;
  auto batches = Build(dir.path(), 40);
  const AppendResult& last = batches.back();
  const fs::path seg = SegmentFileName(last.segment_base, ".log");
  const uint64_t end = fs::file_size(dir.path() / seg);
  ASSERT_GT(last.position, 0u);
  for (uint64_t cut = last.position; cut < end; ++cut) {
    ExpectRecoversTo(
        dir.path(), [&](const fs::path& d) { fs::resize_file(d / seg, cut); }, batches,
        batches.size() - 1, "cut at " + std::to_string(cut));
  }
}

TEST_F(RecoveryTest, EveryFlippedByteOfTheLastBatchIsDetected) {
  TempDir dir;
  auto batches = Build(dir.path(), 40);
  const AppendResult& last = batches.back();
  const fs::path seg = SegmentFileName(last.segment_base, ".log");
  const uint64_t end = fs::file_size(dir.path() / seg);
  for (uint64_t at = last.position; at < end; ++at) {
    const uint64_t field = at - last.position;
    // The leader epoch (bytes 12..15) is not CRC-covered; a flip that
    // raises it is indistinguishable from a real higher epoch.
    if (field >= 12 && field < 16) continue;
    ExpectRecoversTo(
        dir.path(),
        [&](const fs::path& d) {
          std::vector<uint8_t> bytes = ReadFileBytes(d / seg);
          bytes[at] ^= 0x5a;
          WriteFileBytes(d / seg, bytes);
        },
        batches, batches.size() - 1, "flip at +" + std::to_string(field));
  }
}

TEST_F(RecoveryTest, CorruptMiddleSegmentDropsItsTailAndEveryLaterSegment) {
  TempDir dir;
  auto batches = Build(dir.path(), 80);
  // The last batch of the first segment.
  size_t victim = 0;
  while (batches[victim + 1].segment_base == batches[0].segment_base) ++victim;
  const fs::path seg = SegmentFileName(batches[victim].segment_base, ".log");
  for (uint64_t delta : {1u, 20u, 60u}) {
    ExpectRecoversTo(
        dir.path(),
        [&](const fs::path& d) { fs::resize_file(d / seg, batches[victim].position + delta); },
        batches, victim, "cut +" + std::to_string(delta));
  }
}

TEST_F(RecoveryTest, GarbageAfterTheLastBatchIsTruncated) {
  TempDir dir;
  auto batches = Build(dir.path(), 20);
  const fs::path seg = SegmentFileName(batches.back().segment_base, ".log");
  ExpectRecoversTo(
      dir.path(),
      [&](const fs::path& d) {
        std::vector<uint8_t> bytes = ReadFileBytes(d / seg);
        bytes.resize(bytes.size() + 4096, 0);  // preallocated zeros after a crash
        WriteFileBytes(d / seg, bytes);
      },
      batches, batches.size(), "zero tail");
}

TEST_F(RecoveryTest, CorruptOrMissingIndexesAreRebuiltNotTrusted) {
  TempDir dir;
  std::vector<AppendResult> batches;
  {
    auto log = OpenLog(dir.path());
    for (int i = 0; i < 60; ++i) batches.push_back(*AppendBatch(*log, 2, 1000 + i * 10, 30));
    ASSERT_TRUE(log->Close().ok());
  }
  const int64_t seg0 = batches[0].segment_base;
  const int64_t seg1 = batches.back().segment_base;
  ASSERT_NE(seg0, seg1);
  const fs::path idx0 = dir.path() / SegmentFileName(seg0, ".index");
  ASSERT_GT(fs::file_size(idx0), 8u);
  // Damage: an entry pointing past the file, odd-sized time index, missing index.
  std::vector<uint8_t> bad = ReadFileBytes(idx0);
  bad[4] = bad[5] = bad[6] = bad[7] = 0xff;
  WriteFileBytes(idx0, bad);
  fs::resize_file(dir.path() / SegmentFileName(seg1, ".timeindex"), 5);
  fs::remove(dir.path() / SegmentFileName(batches[20].segment_base, ".index"));

  auto log = OpenLog(dir.path(), /*clean=*/true);
  int rebuilt = 0;
  for (const std::string& n : log->open_notes()) rebuilt += n.find("rebuilt") != std::string::npos;
  EXPECT_GE(rebuilt, 2);
  for (const AppendResult& b : batches) {
    EXPECT_EQ(log->Read(b.last_offset, 1)->first_offset, b.base_offset);
    EXPECT_EQ((*log->FindOffsetByTimestamp(1000 + (b.base_offset / 2) * 10))->offset, b.base_offset);
  }
  EXPECT_EQ(fs::file_size(idx0) % 8, 0u);
  EXPECT_TRUE(fs::exists(dir.path() / SegmentFileName(batches[20].segment_base, ".index")));
}

TEST_F(RecoveryTest, CleanShutdownMarkerSkipsTheScanAndItsAbsenceDoesNot) {
  TempDir dir;
  std::vector<AppendResult> batches;
  {
    auto log = OpenLog(dir.path());
    for (int i = 0; i < 10; ++i) batches.push_back(*AppendBatch(*log, 1, 1000 + i, 30));
    ASSERT_TRUE(log->Close().ok());
  }
  // Move the last batch's base offset (outside the CRC) past a gap.
  const fs::path seg = dir.path() / SegmentFileName(batches.back().segment_base, ".log");
  std::vector<uint8_t> bytes = ReadFileBytes(seg);
  StoreBigEndian(bytes.data() + batches.back().position, int64_t{100});
  WriteFileBytes(seg, bytes);
  {
    auto trusted = OpenLog(dir.path(), /*clean=*/true);
    EXPECT_EQ(trusted->log_end_offset(), 101);  // not scanned
  }
  auto scanned = OpenLog(dir.path(), /*clean=*/false);
  // Close() set the recovery point to the LEO, so the scan starts in the
  // segment holding it, which is the damaged one.
  EXPECT_EQ(scanned->log_end_offset(), 9);
}

TEST_F(RecoveryTest, CrcsAreCheckedOnlyFromTheRecoveryPointWithinItsSegment) {
  TempDir dir;
  std::vector<AppendResult> batches;
  {
    auto log = OpenLog(dir.path());
    for (int i = 0; i < 8; ++i) batches.push_back(*AppendBatch(*log, 1, 1000 + i, 30));
    ASSERT_TRUE(log->Flush().ok());
    ASSERT_TRUE(log->CheckpointRecoveryPoint().ok());  // recovery point 8, mid-segment
    for (int i = 0; i < 4; ++i) batches.push_back(*AppendBatch(*log, 1, 2000 + i, 30));
  }
  ASSERT_EQ(batches.front().segment_base, batches.back().segment_base);
  const fs::path seg = dir.path() / SegmentFileName(0, ".log");
  std::vector<uint8_t> bytes = ReadFileBytes(seg);
  bytes[batches[3].position + 70] ^= 1;   // fsynced before the checkpoint: trusted
  bytes[batches[10].position + 70] ^= 1;  // after it: validated, dropped with what follows
  WriteFileBytes(seg, bytes);
  auto log = OpenLog(dir.path());
  EXPECT_EQ(log->log_end_offset(), 10);
  // The index was rebuilt over the trusted part too: every offset is found.
  for (int64_t o = 0; o < 10; ++o) EXPECT_EQ(log->Read(o, 1)->first_offset, o) << o;
}

TEST_F(RecoveryTest, RecoveryScansOnlyFromTheRecoveryPointSegment) {
  TempDir dir;
  std::vector<AppendResult> batches;
  {
    auto log = OpenLog(dir.path());
    for (int i = 0; i < 60; ++i) batches.push_back(*AppendBatch(*log, 1, 1000 + i, 30));
    ASSERT_TRUE(log->Flush().ok());
    for (int i = 0; i < 3; ++i) batches.push_back(*AppendBatch(*log, 1, 2000 + i, 30));
  }
  Result<std::optional<int64_t>> rp =
      ReadOffsetCheckpoint(fs_, dir.path() / kRecoveryPointCheckpoint);
  ASSERT_TRUE(rp.ok() && rp->has_value());
  EXPECT_EQ(**rp, 60);
  // Damage the first segment's payload: below the recovery point, not rescanned.
  const fs::path seg0 = dir.path() / SegmentFileName(0, ".log");
  std::vector<uint8_t> bytes = ReadFileBytes(seg0);
  bytes[70] ^= 1;
  WriteFileBytes(seg0, bytes);
  auto log = OpenLog(dir.path());
  EXPECT_EQ(log->log_end_offset(), 63);
}

TEST_F(RecoveryTest, PowerLossKeepsEverythingFlushedAndNothingTorn) {
  TempDir dir;
  FaultInjectionFileSystem faulty;
  fs_ = &faulty;
  int64_t flushed = 0;
  {
    auto log = OpenLog(dir.path());
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 15; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 1000 + i, 30).ok());
      ASSERT_TRUE(log->Flush().ok());
      flushed = log->flushed_offset();
    }
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 3000 + i, 30).ok());
    ASSERT_TRUE(faulty.DropUnsyncedData().ok());  // the machine loses power
  }
  fs_ = FileSystem::Default();
  auto log = OpenLog(dir.path());
  EXPECT_EQ(log->log_end_offset(), flushed);
  Result<ReadResult> all = log->Read(0, 1 << 30);
  ASSERT_TRUE(all.ok());
  auto hs = Batches(SliceBytes(*all));
  EXPECT_EQ(hs.back().last_offset() + 1, flushed);
  EXPECT_EQ(AppendBatch(*log, 1, 1)->base_offset, flushed);
}

// Logs are opened at start-up with the broker's defaults; a topic allowed
// larger batches (max.message.bytes) must not lose them to recovery.
TEST_F(RecoveryTest, BatchLargerThanTheDefaultMaxMessageBytesSurvivesAnUncleanReopen) {
  TempDir dir;
  LogConfig large = config_;
  large.segment_bytes = 8 << 20;
  large.max_message_bytes = 3 << 20;
  const size_t big_size = 2 << 20;
  ASSERT_GT(big_size, static_cast<size_t>(LogConfig{}.max_message_bytes));
  {
    Result<std::unique_ptr<Log>> log = Log::Open(dir.path(), large, {fs_, clock_.fn(), false});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE(AppendBatch(**log, 2, 1000).ok());
    std::vector<uint8_t> big = MakeBatchOfSize(big_size, 1001);
    ASSERT_TRUE((*log)->Append(big, 0).ok());
    ASSERT_TRUE(AppendBatch(**log, 2, 1002).ok());
    ASSERT_TRUE((*log)->Flush().ok());
    // No Close: the next open recovers every batch.
  }
  config_ = LogConfig{};
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_end_offset(), 5);
  Result<ReadResult> r = log->Read(2, 1);
  ASSERT_TRUE(r.ok());
  auto batches = Batches(SliceBytes(*r));
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size_bytes(), big_size);
  EXPECT_EQ(log->Read(3, 1)->first_offset, 3);
}

// A corrupt length that still fits in the file is caught by the CRC, read
// in pieces (no buffer of the claimed size).
TEST_F(RecoveryTest, CorruptLengthWithinTheFileIsCaughtByTheCrc) {
  TempDir dir;
  config_.segment_bytes = 8 << 20;
  auto batches = Build(dir.path(), 3);
  {
    auto log = OpenLog(dir.path());
    std::vector<uint8_t> big = MakeBatchOfSize(300'000, 2000);
    ASSERT_TRUE(log->Append(big, 0).ok());
  }
  const fs::path seg = dir.path() / SegmentFileName(0, ".log");
  std::vector<uint8_t> bytes = ReadFileBytes(seg);
  // The second batch now claims to run almost to the end of the file.
  const uint64_t at = batches[1].position + model::batch_layout::kBatchLength;
  const uint32_t claimed = static_cast<uint32_t>(bytes.size() - batches[1].position - 12 - 10);
  StoreBigEndian<uint32_t>(bytes.data() + at, claimed);
  WriteFileBytes(seg, bytes);
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_end_offset(), batches[0].last_offset + 1);
}

}  // namespace
}  // namespace sluice::storage
