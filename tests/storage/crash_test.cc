// Process-level crash: a forked child appends and flushes in a loop and
// reports each flushed offset through a pipe; the parent kill -9s it at a
// random moment and checks that reopening the log finds every reported
// offset, with every batch intact and appends continuing right after.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

LogConfig CrashConfig() {
  LogConfig c;
  c.segment_bytes = 16 * 1024;  // many rolls, so crashes hit them too
  c.index_interval_bytes = 512;
  return c;
}

[[noreturn]] void ChildMain(const std::filesystem::path& dir, int fd, unsigned seed) {
  Result<std::unique_ptr<Log>> log = Log::Open(dir, CrashConfig(), {});
  if (!log.ok()) _exit(2);
  std::mt19937 rng(seed);
  while (true) {
    std::vector<uint8_t> b = MakeBatch(1 + static_cast<int>(rng() % 5), 1000, 20 + rng() % 400);
    Result<AppendResult> r = (*log)->Append(b, 0);
    if (!r.ok()) _exit(3);
    // Flush only some of the time so unflushed appends are in flight too.
    if (rng() % 3 == 0) continue;
    if (!(*log)->FlushTo(r->last_offset + 1).ok()) _exit(4);
    int64_t flushed = r->last_offset + 1;
    if (write(fd, &flushed, sizeof flushed) != sizeof flushed) _exit(5);
  }
}

TEST(CrashTest, KillNineNeverLosesAReportedFlushedOffset) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  int64_t max_reported = 0;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const unsigned seed = static_cast<unsigned>(rng());
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildMain(dir.path(), fds[1], seed);
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 700));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    int64_t v;
    int reports = 0;
    while (read(fds[0], &v, sizeof v) == static_cast<ssize_t>(sizeof v)) {
      EXPECT_GE(v, max_reported);
      max_reported = std::max(max_reported, v);
      ++reports;
    }
    close(fds[0]);
    EXPECT_GT(reports, 0) << "round " << round;

    auto log = Log::Open(dir.path(), CrashConfig(), {}).value();
    EXPECT_GE(log->log_end_offset(), max_reported) << "round " << round;
    Result<ReadResult> all = log->Read(0, 1ull << 40);
    ASSERT_TRUE(all.ok());
    auto hs = Batches(SliceBytes(*all));
    int64_t expect = 0;
    for (const auto& h : hs) {
      ASSERT_EQ(h.base_offset, expect);
      expect = h.last_offset() + 1;
    }
    EXPECT_EQ(expect, log->log_end_offset());
    // The next append lands right after what survived.
    EXPECT_EQ(AppendBatch(*log, 1, 1)->base_offset, expect);
    max_reported = std::max(max_reported, expect + 1);
  }
}

}  // namespace
}  // namespace sluice::storage
