#include "cluster/retention_scheduler.h"
#include "base/mutex.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

namespace sluice::cluster {
namespace {

// Longer intervals (Kafka's Long.MAX_VALUE defaults) mean "never"; they
// would also overflow the clock's milliseconds.
constexpr int64_t kNeverMs = int64_t{100} * 365 * 24 * 3600 * 1000;

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RetentionSchedulerOptions WithClock(RetentionSchedulerOptions o) {
  if (!o.clock) o.clock = SteadyNowMs;
  return o;
}

}  // namespace

RetentionScheduler::RetentionScheduler(storage::LogManager* logs,
                                       RetentionSchedulerOptions options,
                                       metrics::BrokerMetrics* metrics)
    : logs_(logs), options_(WithClock(std::move(options))), metrics_(metrics) {
  next_retention_ms_ = Next(options_.retention_check_interval_ms);
  next_flush_ms_ = Next(options_.flush_check_interval_ms);
  next_checkpoint_ms_ = Next(options_.recovery_point_checkpoint_interval_ms);
}

std::optional<int64_t> RetentionScheduler::Next(int64_t interval_ms) const {
  if (interval_ms <= 0 || interval_ms >= kNeverMs) return std::nullopt;
  return Now() + interval_ms;
}

RetentionScheduler::~RetentionScheduler() { Stop(); }

void RetentionScheduler::Start() {
  MutexLock lock(&mu_);
  if (thread_.joinable() || stopping()) return;
  thread_ = std::thread([this] { Run(); });
}

void RetentionScheduler::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void RetentionScheduler::Run() {
  while (!stopping()) {
    const std::optional<int64_t> wait_ms = RunDue();
    MutexLock lock(&mu_);
    if (!wait_ms) {
      while (!stopping()) cv_.Wait(&mu_);
      break;
    }
    const auto due = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(std::max<int64_t>(0, *wait_ms));
    while (!stopping() && cv_.WaitUntil(&mu_, due)) {
    }
  }
}

std::optional<int64_t> RetentionScheduler::RunDue() {
  const int64_t now = Now();
  // The next interval starts when the task is done, so a slow round is
  // not followed at once by another.
  if (next_retention_ms_ && now >= *next_retention_ms_ && !stopping()) {
    EnforceRetentionOnce();
    next_retention_ms_ = Next(options_.retention_check_interval_ms);
  }
  if (next_flush_ms_ && now >= *next_flush_ms_ && !stopping()) {
    FlushOnce();
    next_flush_ms_ = Next(options_.flush_check_interval_ms);
  }
  if (next_checkpoint_ms_ && now >= *next_checkpoint_ms_ && !stopping()) {
    CheckpointRecoveryPointsOnce();
    next_checkpoint_ms_ = Next(options_.recovery_point_checkpoint_interval_ms);
  }
  std::optional<int64_t> due;
  for (const auto& t : {next_retention_ms_, next_flush_ms_, next_checkpoint_ms_}) {
    if (t && (!due || *t < *due)) due = t;
  }
  if (!due) return std::nullopt;
  return std::max<int64_t>(0, *due - Now());
}

uint64_t RetentionScheduler::EnforceRetentionOnce() {
  RetentionTotals round;
  for (auto& [tp, log] : logs_->Logs()) {
    if (stopping()) break;
    const storage::LogConfig config = log->config();
    if (config.retention_ms < 0 && config.retention_bytes < 0) continue;
    Result<storage::RetentionResult> r = log->EnforceRetention();
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kAborted) continue;  // Deleted or shutting down.
      ++round.errors;
      spdlog::warn("retention: {}: {}", tp.DirName(), r.status().ToString());
      continue;
    }
    if (r->segments == 0) continue;
    round.segments_deleted += static_cast<uint64_t>(r->segments);
    round.bytes_deleted += r->bytes;
    spdlog::info(
        "retention: {} deleted {} segment(s), {} bytes ({} by retention.ms={}, {} by "
        "retention.bytes={}); log start offset now {}",
        tp.DirName(), r->segments, r->bytes, r->by_time, config.retention_ms,
        r->segments - r->by_time, config.retention_bytes, r->log_start_offset);
  }
  if (metrics_ != nullptr) {
    metrics_->retention_segments_deleted().Increment(round.segments_deleted);
    metrics_->retention_bytes_deleted().Increment(round.bytes_deleted);
  }
  MutexLock lock(&mu_);
  ++totals_.rounds;
  totals_.segments_deleted += round.segments_deleted;
  totals_.bytes_deleted += round.bytes_deleted;
  totals_.errors += round.errors;
  return round.segments_deleted;
}

void RetentionScheduler::FlushOnce() {
  uint64_t errors = 0;
  for (auto& [tp, log] : logs_->Logs()) {
    if (stopping()) break;
    Status s = log->MaybeFlush();
    if (!s.ok() && s.code() != StatusCode::kAborted) {
      ++errors;
      spdlog::warn("flush.ms: {}: {}", tp.DirName(), s.ToString());
    }
  }
  MutexLock lock(&mu_);
  ++totals_.flush_rounds;
  totals_.errors += errors;
}

void RetentionScheduler::CheckpointRecoveryPointsOnce() {
  uint64_t errors = 0;
  for (auto& [tp, log] : logs_->Logs()) {
    if (stopping()) break;
    Status s = log->CheckpointRecoveryPoint();  // A no-op when nothing was flushed since.
    if (!s.ok() && s.code() != StatusCode::kAborted) {
      ++errors;
      spdlog::warn("recovery point checkpoint: {}: {}", tp.DirName(), s.ToString());
    }
  }
  MutexLock lock(&mu_);
  ++totals_.checkpoint_rounds;
  totals_.errors += errors;
}

RetentionTotals RetentionScheduler::totals() const {
  MutexLock lock(&mu_);
  return totals_;
}

}  // namespace sluice::cluster
