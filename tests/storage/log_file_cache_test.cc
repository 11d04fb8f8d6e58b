// Logs whose segments outnumber the file cache's capacity: every operation
// still works (each reopens what it needs), and the process's descriptors
// stay within the capacity plus a few that are opened for a moment.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/file_cache.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
using testing::AppendBatch;
using testing::Batches;
using testing::SliceBytes;

// Descriptors of index and checkpoint files opened for one operation, and
// of the directory being listed or synced; never held.
constexpr size_t kTransient = 4;

size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Every offset from `from` to the log end, read in small steps.
std::vector<int64_t> ReadAllOffsets(Log& log, int64_t from) {
  std::vector<int64_t> out;
  int64_t next = from;
  while (next < log.log_end_offset()) {
    Result<ReadResult> r = log.Read(next, 700);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->slices.empty()) break;
    for (const model::RecordBatchHeader& h : Batches(SliceBytes(*r))) {
      for (int64_t o = h.base_offset; o <= h.last_offset(); ++o) out.push_back(o);
    }
    next = r->next_offset;
  }
  return out;
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t o = from; o < to; ++o) out.push_back(o);
  return out;
}

class LogFileCacheTest : public ::testing::Test {
 protected:
  LogOptions Options(bool clean = false) {
    LogOptions o;
    o.clock = clock_.fn();
    o.clean_shutdown = clean;
    o.file_cache = &cache_;
    return o;
  }

  static constexpr size_t kCapacity = 4;
  testing::FakeClock clock_;
  FileCache cache_{kCapacity};
  ::sluice::testing::TempDir dir_;
  LogConfig config_ = [] {
    LogConfig c;
    c.segment_bytes = 1024;
    c.index_interval_bytes = 256;
    return c;
  }();
};

TEST_F(LogFileCacheTest, MoreSegmentsThanCapacity) {
  const size_t before = OpenFds();
  std::unique_ptr<Log> log = testing::OpenLogOrFail(dir_.path(), config_, Options());
  ASSERT_NE(nullptr, log);
  // ~250 bytes a batch, 5 a segment: 40 segments.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(AppendBatch(*log, 2, 1000 + i, 50).ok()) << i;
    if (i % 40 == 0) {
      ASSERT_TRUE(log->Flush().ok());
    }
  }
  ASSERT_GE(log->segment_count(), 10 * kCapacity);
  EXPECT_LE(OpenFds(), before + kCapacity + kTransient);
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(400, log->flushed_offset());
  EXPECT_EQ(Range(0, 400), ReadAllOffsets(*log, 0));
  EXPECT_LE(OpenFds(), before + kCapacity + kTransient);

  // Every segment's timestamps are found (each search reopens its segment).
  Result<std::optional<TimestampLookup>> ts = log->FindOffsetByTimestamp(1000 + 123);
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  ASSERT_TRUE(ts->has_value());
  EXPECT_EQ(246, (*ts)->offset);

  // Truncation into an old segment, then appends that roll again.
  ASSERT_TRUE(log->TruncateTo(101).ok());
  EXPECT_EQ(100, log->log_end_offset()) << "at a batch boundary";
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 5000 + i, 50).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(Range(0, 180), ReadAllOffsets(*log, 0));
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  EXPECT_LE(OpenFds(), before + kCapacity);

  // A clean start trusts the files; every segment reads back.
  log = testing::OpenLogOrFail(dir_.path(), config_, Options(/*clean=*/true));
  ASSERT_NE(nullptr, log);
  EXPECT_EQ(180, log->log_end_offset());
  EXPECT_EQ(Range(0, 180), ReadAllOffsets(*log, 0));
  // Written without a close: the next open recovers from the recovery point.
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 6000 + i, 50).ok());
  log.reset();
  log = testing::OpenLogOrFail(dir_.path(), config_, Options(/*clean=*/false));
  ASSERT_NE(nullptr, log);
  EXPECT_EQ(260, log->log_end_offset());
  EXPECT_EQ(Range(0, 260), ReadAllOffsets(*log, 0));
  EXPECT_LE(OpenFds(), before + kCapacity + kTransient);
  ASSERT_TRUE(log->Close().ok());
}

TEST_F(LogFileCacheTest, FetchedSliceSurvivesEvictionAndDeletion) {
  std::unique_ptr<Log> log = testing::OpenLogOrFail(dir_.path(), config_, Options());
  ASSERT_NE(nullptr, log);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(AppendBatch(*log, 2, 1000 + i, 50).ok());
  ASSERT_TRUE(log->Flush().ok());
  Result<ReadResult> held = log->Read(0, 300);  // The first segment's, as a fetch keeps it.
  ASSERT_TRUE(held.ok());
  ASSERT_FALSE(held->slices.empty());
  const std::vector<uint8_t> bytes = SliceBytes(*held);
  // Reads of every other segment push the first one's descriptor out.
  const uint64_t evictions = cache_.stats().evictions;
  EXPECT_EQ(Range(10, 80), ReadAllOffsets(*log, 10));
  EXPECT_GT(cache_.stats().evictions, evictions);
  // And the segment goes altogether.
  ASSERT_TRUE(log->AdvanceLogStartOffset(40).ok());
  ASSERT_FALSE(fs::exists(dir_.path() / SegmentFileName(0, ".log")));
  EXPECT_EQ(bytes, SliceBytes(*held)) << "the slice still sends the bytes it named";
  ASSERT_TRUE(log->Close().ok());
}

TEST(LogManagerFileCacheTest, ManyPartitionsWithFewDescriptors) {
  ::sluice::testing::TempDir dir;
  constexpr size_t kMaxOpen = 16;
  constexpr int kPartitions = 300;
  const size_t before = OpenFds();
  LogManagerOptions options;
  options.max_open_files = kMaxOpen;
  std::vector<TopicPartition> tps;
  for (int32_t p = 0; p < kPartitions; ++p) tps.push_back({"many", p});
  {
    Result<std::unique_ptr<LogManager>> m = LogManager::Open({dir.path()}, options);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    Result<std::vector<std::shared_ptr<Log>>> logs = (*m)->CreateMany(tps, LogConfig{});
    ASSERT_TRUE(logs.ok()) << logs.status().ToString();
    std::vector<Log*> raw;
    for (int32_t p = 0; p < kPartitions; ++p) {
      Log& log = *(*logs)[static_cast<size_t>(p)];
      ASSERT_TRUE(AppendBatch(log, 1 + p % 3, 1000 + p).ok());
      raw.push_back(&log);
    }
    // Synced together (one syncfs), then closed: descriptors stay bounded.
    for (const Status& s : Log::FlushTogether(raw)) ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_LE(OpenFds(), before + kMaxOpen + kTransient);
    ASSERT_TRUE((*m)->Close().ok());
  }
  EXPECT_LE(OpenFds(), before + kTransient);
  Result<std::unique_ptr<LogManager>> m = LogManager::Open({dir.path()}, options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Opened on several threads, each holding a directory and a file or two
  // for a moment; then only the cache's.
  EXPECT_LE(OpenFds(), before + kMaxOpen + kTransient);
  for (int32_t p = 0; p < kPartitions; ++p) {
    std::shared_ptr<Log> log = (*m)->Get({"many", p});
    ASSERT_NE(nullptr, log);
    EXPECT_EQ(1 + p % 3, log->log_end_offset()) << p;
    Result<ReadResult> r = log->Read(0, 1 << 20);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(1u, Batches(SliceBytes(*r)).size());
  }
  EXPECT_LE((*m)->file_cache()->stats().open, kMaxOpen);
  EXPECT_LE(OpenFds(), before + kMaxOpen + kTransient);
  ASSERT_TRUE((*m)->Close().ok());
}

}  // namespace
}  // namespace sluice::storage
