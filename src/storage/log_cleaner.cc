#include "storage/log_cleaner.h"

#include <algorithm>
#include <chrono>

namespace sluice::storage {

LogCleaner::LogCleaner(LogManager* logs, LogCleanerOptions options)
    : logs_(logs), options_(options) {}

LogCleaner::~LogCleaner() { Stop(); }

void LogCleaner::Start() {
  MutexLock lock(&mu_);
  if (!threads_.empty() || stop_) return;
  for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { Run(); });
}

void LogCleaner::Stop() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(&mu_);
    stop_ = true;
    threads.swap(threads_);
  }
  cv_.SignalAll();
  for (std::thread& t : threads) t.join();
}

void LogCleaner::Wakeup() {
  {
    MutexLock lock(&mu_);
    ++wakeups_;
  }
  cv_.SignalAll();
}

bool LogCleaner::stopping() const {
  MutexLock lock(&mu_);
  return stop_;
}

LogCleanerStats LogCleaner::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

bool LogCleaner::CleanOne(const TopicPartition& tp, const std::shared_ptr<Log>& log) {
  {
    MutexLock lock(&mu_);
    if (stop_ || busy_.contains(log.get())) return false;
    busy_.insert(log.get());
  }
  CleanPassOptions o;
  o.max_map_bytes =
      options_.dedupe_buffer_bytes / static_cast<size_t>(std::max(1, options_.threads));
  o.should_stop = [this] { return stopping(); };
  Result<CleanPassStats> r = CleanLogOnce(*log, o);
  MutexLock lock(&mu_);
  busy_.erase(log.get());
  if (!r.ok()) {
    // Aborted: closed, stopped or changed under the pass; the next round retries.
    if (r.status().code() != StatusCode::kAborted) {
      ++stats_.errors;
      stats_.last_error = tp.DirName() + ": " + r.status().ToString();
    }
    return false;
  }
  if (!r->ran) return false;
  ++stats_.passes;
  stats_.segments_rewritten += static_cast<uint64_t>(r->segments_rewritten);
  stats_.segments_deleted += static_cast<uint64_t>(r->segments_deleted);
  stats_.bytes_read += r->bytes_read;
  stats_.bytes_before += r->bytes_before;
  stats_.bytes_after += r->bytes_after;
  stats_.records_removed += r->records_removed;
  stats_.tombstones_removed += r->tombstones_removed;
  return true;
}

int LogCleaner::CleanRound() {
  int passes = 0;
  for (const auto& [tp, log] : logs_->Logs()) {
    if (stopping()) break;
    if (!log->config().compact) continue;
    if (CleanOne(tp, log)) ++passes;
  }
  return passes;
}

void LogCleaner::Run() {
  while (true) {
    uint64_t seen;
    {
      MutexLock lock(&mu_);
      if (stop_) return;
      seen = wakeups_;
    }
    if (CleanRound() > 0) continue;
    MutexLock lock(&mu_);
    const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.backoff_ms);
    while (!stop_ && wakeups_ == seen && cv_.WaitUntil(&mu_, due)) {
    }
  }
}

}  // namespace sluice::storage
