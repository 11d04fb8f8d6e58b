// Storage engine throughput, each figure next to a baseline measured in the
// same run on the same disk:
//   BM_RawWriteFiles / BM_LogAppend            a plain program writing fresh
//                                              64 MiB files, deleting the
//                                              oldest beyond 128 MiB, vs
//                                              Log::Append, no sync
//   BM_RawWrite                                the older baseline: pwrite into
//                                              one file cut back to 0 every
//                                              256 MiB (creates no files)
//   BM_RawWriteFdatasync / BM_LogAppendFlush   one fdatasync per write vs
//                                              Append + FlushTo (group commit
//                                              with several threads)
//   BM_RawRead / BM_LogRead                    pread vs Log::Read + pread of
//                                              the slices (what sendfile does)
//   BM_IndexLookup/N                           Log::Read of one batch at a
//                                              random offset among N batches
// Files live under $SLUICE_BENCH_DIR (default: the system temp directory).
#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "storage/batch_builder.h"
#include "storage/log.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kWrapBytes = 256ull << 20;  // BM_RawWrite restarts its file at this size
// The log's segment.bytes and retention.bytes; BM_RawWriteFiles keeps the
// same amount of data on disk.
constexpr uint64_t kSegmentBytes = 64ull << 20;
constexpr uint64_t kRetentionBytes = 128ull << 20;

fs::path BenchDir(const std::string& name) {
  const char* env = std::getenv("SLUICE_BENCH_DIR");
  fs::path root = env ? fs::path(env) : fs::temp_directory_path();
  fs::path dir = root / ("sluice-storage-bench-" + std::to_string(getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void Cleanup() {
  const char* env = std::getenv("SLUICE_BENCH_DIR");
  fs::path root = env ? fs::path(env) : fs::temp_directory_path();
  fs::remove_all(root / ("sluice-storage-bench-" + std::to_string(getpid())));
}

// ---- raw baselines ---------------------------------------------------------

struct RawFile {
  int fd = -1;
  std::atomic<uint64_t> end{0};
};
std::mutex g_mu;
std::unique_ptr<RawFile> g_raw;
std::unique_ptr<Log> g_log;

// Every benchmark starts with no dirty pages left by the previous one, so
// writeback of earlier data does not throttle it.
void SyncAll() { ::sync(); }

void RawSetup(const benchmark::State&) {
  SyncAll();
  g_raw = std::make_unique<RawFile>();
  fs::path dir = BenchDir("raw");
  g_raw->fd = ::open((dir / "raw.bin").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
}
void RawTeardown(const benchmark::State&) {
  ::close(g_raw->fd);
  g_raw.reset();
  Cleanup();
}

void RawWrite(benchmark::State& state, bool sync) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> buf = testing::MakeBatchOfSize(size, 1);
  for (auto _ : state) {
    uint64_t at = g_raw->end.fetch_add(size);
    if (at + size > kWrapBytes) {
      // Keep the file bounded; the wrap is rare and shared by all threads.
      std::lock_guard lock(g_mu);
      if (g_raw->end.load() > kWrapBytes) {
        ::ftruncate(g_raw->fd, 0);
        g_raw->end = 0;
      }
      at = g_raw->end.fetch_add(size);
    }
    if (::pwrite(g_raw->fd, buf.data(), size, static_cast<off_t>(at)) != static_cast<ssize_t>(size)) {
      state.SkipWithError("pwrite failed");
      break;
    }
    if (sync && ::fdatasync(g_raw->fd) != 0) {
      state.SkipWithError("fdatasync failed");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
}

void BM_RawWrite(benchmark::State& state) { RawWrite(state, false); }
void BM_RawWriteFdatasync(benchmark::State& state) { RawWrite(state, true); }

// What a plain program keeping the log's amount of data on disk does: write()
// sequentially into a fresh file until it holds kSegmentBytes, close it,
// create the next (O_CREAT | O_TRUNC), and unlink the oldest full file once
// the full ones exceed kRetentionBytes -- so, like the log, it keeps 2 full
// files plus the one being written, allocates new files and frees old ones.
// The unlink runs inline: a single-threaded program has no other thread.
void BM_RawWriteFiles(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> buf = testing::MakeBatchOfSize(size, 1);
  SyncAll();
  const fs::path dir = BenchDir("rawfiles");
  std::deque<fs::path> full;
  int next = 0;
  fs::path path = dir / std::to_string(next++);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  uint64_t in_file = 0;
  for (auto _ : state) {
    if (fd < 0) {
      state.SkipWithError("open failed");
      break;
    }
    if (in_file + size > kSegmentBytes) {
      ::close(fd);
      full.push_back(path);
      if (full.size() * kSegmentBytes > kRetentionBytes) {
        ::unlink(full.front().c_str());
        full.pop_front();
      }
      path = dir / std::to_string(next++);
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      in_file = 0;
    }
    if (::write(fd, buf.data(), size) != static_cast<ssize_t>(size)) {
      state.SkipWithError("write failed");
      break;
    }
    in_file += size;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
  if (fd >= 0) ::close(fd);
  Cleanup();
}

// ---- the log ---------------------------------------------------------------

LogConfig BenchConfig() {
  LogConfig c;
  c.segment_bytes = static_cast<int64_t>(kSegmentBytes);
  c.retention_bytes = static_cast<int64_t>(kRetentionBytes);  // kept bounded by the retention thread
  c.retention_ms = -1;
  return c;
}

// Retention runs on its own thread, as the broker's scheduler would run it,
// keeping the disk use bounded without charging its fsyncs to appends.
std::atomic<bool> g_stop{false};
std::thread g_retention;

void LogSetup(const benchmark::State&) {
  SyncAll();
  g_log = Log::Open(BenchDir("log"), BenchConfig(), {}).value();
  g_stop = false;
  g_retention = std::thread([] {
    while (!g_stop) {
      (void)g_log->EnforceRetention();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}
void LogTeardown(const benchmark::State&) {
  g_stop = true;
  g_retention.join();
  (void)g_log->Close();
  g_log.reset();
  Cleanup();
}

void LogAppend(benchmark::State& state, bool flush) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> batch = testing::MakeBatchOfSize(size, 1);
  for (auto _ : state) {
    Result<AppendResult> r = g_log->Append(batch, 0);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    if (flush && !g_log->FlushTo(r->last_offset + 1).ok()) {
      state.SkipWithError("flush failed");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
}

void BM_LogAppend(benchmark::State& state) { LogAppend(state, false); }
void BM_LogAppendFlush(benchmark::State& state) { LogAppend(state, true); }

// ---- sequential reads (page cache hot for both) -------------------------------

constexpr uint64_t kReadBytes = 64ull << 20;
constexpr size_t kReadChunk = 1 << 20;

void BM_RawRead(benchmark::State& state) {
  SyncAll();
  fs::path dir = BenchDir("rawread");
  int fd = ::open((dir / "raw.bin").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  std::vector<uint8_t> batch = testing::MakeBatchOfSize(static_cast<size_t>(state.range(0)), 1);
  for (uint64_t at = 0; at < kReadBytes; at += batch.size()) {
    (void)::pwrite(fd, batch.data(), batch.size(), static_cast<off_t>(at));
  }
  std::vector<uint8_t> buf(kReadChunk);
  uint64_t at = 0, bytes = 0;
  for (auto _ : state) {
    ssize_t n = ::pread(fd, buf.data(), kReadChunk, static_cast<off_t>(at));
    if (n <= 0) {
      at = 0;
      continue;
    }
    at += static_cast<uint64_t>(n);
    bytes += static_cast<uint64_t>(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  ::close(fd);
  Cleanup();
}

void BM_LogRead(benchmark::State& state) {
  SyncAll();
  LogConfig config = BenchConfig();
  config.retention_bytes = -1;
  auto log = Log::Open(BenchDir("logread"), config, {}).value();
  std::vector<uint8_t> batch = testing::MakeBatchOfSize(static_cast<size_t>(state.range(0)), 1);
  for (uint64_t at = 0; at < kReadBytes; at += batch.size()) (void)log->Append(batch, 0);
  std::vector<uint8_t> buf(kReadChunk + batch.size());
  int64_t offset = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    Result<ReadResult> r = log->Read(offset, kReadChunk);
    if (!r.ok() || r->slices.empty()) {
      offset = 0;
      continue;
    }
    for (const FileSlice& s : r->slices) {
      (void)::pread(s.fd, buf.data(), s.length, static_cast<off_t>(s.offset));
    }
    bytes += r->size_bytes;
    offset = r->next_offset;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  (void)log->Close();
  log.reset();
  Cleanup();
}

// ---- index lookup vs log size ----------------------------------------------

void BM_IndexLookup(benchmark::State& state) {
  LogConfig config;
  config.segment_bytes = 1 << 30;
  config.index_interval_bytes = 0;  // an entry per batch: N entries to search
  config.segment_index_bytes = 64 << 20;
  auto log = Log::Open(BenchDir("index"), config, {}).value();
  std::vector<uint8_t> batch = testing::MakeBatch(1, 1, 8);
  const int64_t n = state.range(0);
  for (int64_t i = 0; i < n; ++i) (void)log->Append(batch, 0);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    Result<ReadResult> r = log->Read(static_cast<int64_t>(rng() % static_cast<uint64_t>(n)), 1);
    benchmark::DoNotOptimize(r);
  }
  state.SetComplexityN(n);
  (void)log->Close();
  log.reset();
  Cleanup();
}

BENCHMARK(BM_RawWriteFiles)->Arg(1024)->Arg(64 << 10)->UseRealTime();
BENCHMARK(BM_RawWrite)->Arg(1024)->Arg(64 << 10)->Setup(RawSetup)->Teardown(RawTeardown)->UseRealTime();
BENCHMARK(BM_LogAppend)->Arg(1024)->Arg(64 << 10)->Setup(LogSetup)->Teardown(LogTeardown)->UseRealTime();
BENCHMARK(BM_RawWriteFdatasync)
    ->Arg(1024)->Arg(64 << 10)->Threads(1)->Threads(4)
    ->Setup(RawSetup)->Teardown(RawTeardown)->UseRealTime();
BENCHMARK(BM_LogAppendFlush)
    ->Arg(1024)->Arg(64 << 10)->Threads(1)->Threads(4)
    ->Setup(LogSetup)->Teardown(LogTeardown)->UseRealTime();
BENCHMARK(BM_RawRead)->Arg(1024)->Arg(64 << 10)->UseRealTime();
BENCHMARK(BM_LogRead)->Arg(1024)->Arg(64 << 10)->UseRealTime();
BENCHMARK(BM_IndexLookup)->RangeMultiplier(8)->Range(1 << 9, 1 << 18)->Complexity(benchmark::oLogN);

}  // namespace
}  // namespace sluice::storage

BENCHMARK_MAIN();
