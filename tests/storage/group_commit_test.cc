// Group commit: concurrent appenders and flushers share fdatasync calls, and
// a flush never returns before its data is durable.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "storage/fault_injection_fs.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

TEST(GroupCommitTest, ConcurrentFlushesShareSyncsAndReturnOnlyWhenDurable) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  fs.SetSyncDelay(std::chrono::microseconds(2000));  // a slow disk makes flushes overlap
  LogConfig config;
  config.segment_bytes = 64 * 1024;
  auto log = Log::Open(dir.path(), config, {&fs, nullptr, false}).value();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> not_durable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<uint8_t> b = MakeBatch(1, t * 1000 + i, 100);
        Result<AppendResult> r = log->Append(b, 0);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_TRUE(log->FlushTo(r->last_offset + 1).ok());
        // Durable means: this batch's bytes are within the synced size.
        const auto path = dir.path() / SegmentFileName(r->segment_base, ".log");
        if (fs.synced_size(path) < r->position + b.size()) ++not_durable;
        if (log->flushed_offset() < r->last_offset + 1) ++not_durable;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(not_durable.load(), 0);
  const LogStats stats = log->stats();
  std::printf("[ info     ] %llu flushes waited, %llu sync rounds, %llu fdatasync calls\n",
              static_cast<unsigned long long>(stats.flush_requests),
              static_cast<unsigned long long>(stats.flush_syncs),
              static_cast<unsigned long long>(fs.sync_count()));
  // A flush whose data another thread's sync round already covered returns
  // at once and is not counted (flush_requests counts the flushes that
  // waited); on a slow disk most of them wait.
  EXPECT_LE(stats.flush_requests, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_GT(stats.flush_requests, static_cast<uint64_t>(kThreads * kPerThread / 2));
  // Group commit: fewer sync rounds (and fdatasync calls) than flushes that waited.
  EXPECT_LT(stats.flush_syncs, stats.flush_requests);
  EXPECT_LT(fs.sync_count(), stats.flush_requests);
  EXPECT_EQ(log->log_end_offset(), kThreads * kPerThread);
  EXPECT_EQ(log->flushed_offset(), log->log_end_offset());
}

TEST(GroupCommitTest, OneAppenderKeepsGoingWhileOthersWaitOnFlushes) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  fs.SetSyncDelay(std::chrono::microseconds(1000));
  LogConfig config;
  config.segment_bytes = 32 * 1024;
  auto log = Log::Open(dir.path(), config, {&fs, nullptr, false}).value();
  std::atomic<bool> done{false};
  std::atomic<int> flushes{0};
  std::vector<std::thread> flushers;
  for (int t = 0; t < 4; ++t) {
    flushers.emplace_back([&] {
      while (!done) {
        const int64_t want = log->log_end_offset();
        ASSERT_TRUE(log->FlushTo(want).ok());
        EXPECT_GE(log->flushed_offset(), want);
        ++flushes;
      }
    });
  }
  // The appender goes on until flushes have completed alongside it (not a
  // fixed count that a fast appender may finish before the first sync).
  constexpr int kFlushesAlongside = 20;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int64_t appended = 0;
  for (int i = 0; i < 2000 || (flushes.load() < kFlushesAlongside &&
                               std::chrono::steady_clock::now() < deadline);
       ++i) {
    Result<AppendResult> r = AppendBatch(*log, 1, i, 50);
    ASSERT_TRUE(r.ok());
    appended = r->last_offset + 1;
  }
  done = true;
  for (auto& t : flushers) t.join();
  EXPECT_EQ(log->log_end_offset(), appended);
  EXPECT_GE(flushes.load(), kFlushesAlongside);
  EXPECT_GT(log->segment_count(), 1u);  // rolls happened under concurrent flushes
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(log->flushed_offset(), appended);
}

// FlushTogether: many logs made durable by one syncfs, with no fdatasync.
class FlushTogetherTest : public ::testing::Test {
 protected:
  static constexpr int kLogs = 12;

  void SetUp() override {
    for (int i = 0; i < kLogs; ++i) {
      const std::filesystem::path d = dir_.path() / ("t-" + std::to_string(i));
      std::filesystem::create_directory(d);
      logs_.push_back(Log::Open(d, LogConfig{}, {&fs_, nullptr, false}).value());
      // The first append writes the epoch checkpoint at its flush: done here.
      ASSERT_TRUE(AppendBatch(*logs_.back(), 1, 1000).ok());
      ASSERT_TRUE(logs_.back()->Flush().ok());
    }
  }
  std::vector<Log*> All() {
    std::vector<Log*> out;
    for (auto& l : logs_) out.push_back(l.get());
    return out;
  }

  TempDir dir_;
  FaultInjectionFileSystem fs_;
  std::vector<std::unique_ptr<Log>> logs_;
};

TEST_F(FlushTogetherTest, ManyLogsAreMadeDurableByOneFileSystemSync) {
  for (int i = 0; i < kLogs; ++i) ASSERT_TRUE(AppendBatch(*logs_[static_cast<size_t>(i)], i + 1, 2000).ok());
  const uint64_t fdatasyncs = fs_.sync_count();
  std::vector<Status> flushed = Log::FlushTogether(All());
  ASSERT_EQ(flushed.size(), static_cast<size_t>(kLogs));
  for (const Status& s : flushed) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fs_.sync_count(), fdatasyncs);
  EXPECT_EQ(fs_.filesystem_sync_count(), 1u);
  for (auto& l : logs_) EXPECT_EQ(l->flushed_offset(), l->log_end_offset());
  // A power cut keeps everything they acknowledged.
  logs_.clear();
  ASSERT_TRUE(fs_.DropUnsyncedData().ok());
  for (int i = 0; i < kLogs; ++i) {
    auto log = Log::Open(dir_.path() / ("t-" + std::to_string(i)), LogConfig{}, {}).value();
    EXPECT_EQ(log->log_end_offset(), 1 + i + 1) << i;
  }
}

TEST_F(FlushTogetherTest, LogsWithNothingNewAreOkAndAFailedSyncFailsTheOthers) {
  ASSERT_TRUE(AppendBatch(*logs_[0], 2, 2000).ok());
  ASSERT_TRUE(AppendBatch(*logs_[1], 2, 2000).ok());
  fs_.FailSyncs(Status::FromErrno(EIO, "injected"));
  std::vector<Status> flushed = Log::FlushTogether(All());
  EXPECT_TRUE(flushed[0].IsIOError()) << flushed[0].ToString();
  EXPECT_TRUE(flushed[1].IsIOError()) << flushed[1].ToString();
  for (size_t i = 2; i < flushed.size(); ++i) EXPECT_TRUE(flushed[i].ok()) << i;
  fs_.ClearFaults();
  // As after a failed fdatasync: nothing about the files is known any more.
  EXPECT_TRUE(logs_[0]->health().IsIOError());
  EXPECT_TRUE(AppendBatch(*logs_[1], 1, 3000).status().IsIOError());
  EXPECT_TRUE(logs_[2]->health().ok());
}

}  // namespace
}  // namespace sluice::storage
