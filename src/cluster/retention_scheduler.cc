#include "cluster/retention_scheduler.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

namespace sluice::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// Longer intervals (Kafka's Long.MAX_VALUE defaults) mean "never"; they
// would also overflow a steady_clock time point.
constexpr int64_t kNeverMs = int64_t{100} * 365 * 24 * 3600 * 1000;

std::optional<Clock::time_point> Deadline(int64_t interval_ms) {
  if (interval_ms <= 0 || interval_ms >= kNeverMs) return std::nullopt;
  return Clock::now() + std::chrono::milliseconds(interval_ms);
}

}  // namespace

RetentionScheduler::RetentionScheduler(storage::LogManager* logs,
                                       RetentionSchedulerOptions options,
                                       metrics::BrokerMetrics* metrics)
    : logs_(logs), options_(options), metrics_(metrics) {}

RetentionScheduler::~RetentionScheduler() { Stop(); }

void RetentionScheduler::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping()) return;
  thread_ = std::thread([this] { Run(); });
}

void RetentionScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void RetentionScheduler::Run() {
  std::optional<Clock::time_point> next_retention = Deadline(options_.retention_check_interval_ms);
  std::optional<Clock::time_point> next_flush = Deadline(options_.flush_check_interval_ms);
  std::optional<Clock::time_point> next_checkpoint =
      Deadline(options_.recovery_point_checkpoint_interval_ms);
  std::unique_lock lock(mu_);
  while (!stopping()) {
    std::optional<Clock::time_point> wake = next_retention;
    for (const auto& t : {next_flush, next_checkpoint}) {
      if (t && (!wake || *t < *wake)) wake = t;
    }
    if (!wake) {
      cv_.wait(lock, [this] { return stopping(); });
      break;
    }
    if (cv_.wait_until(lock, *wake, [this] { return stopping(); })) break;
    lock.unlock();
    const Clock::time_point now = Clock::now();
    if (next_retention && now >= *next_retention) {
      EnforceRetentionOnce();
      next_retention = Deadline(options_.retention_check_interval_ms);
    }
    if (next_flush && now >= *next_flush) {
      FlushOnce();
      next_flush = Deadline(options_.flush_check_interval_ms);
    }
    if (next_checkpoint && now >= *next_checkpoint) {
      CheckpointRecoveryPointsOnce();
      next_checkpoint = Deadline(options_.recovery_point_checkpoint_interval_ms);
    }
    lock.lock();
  }
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
  std::lock_guard lock(mu_);
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
  std::lock_guard lock(mu_);
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
  std::lock_guard lock(mu_);
  totals_.errors += errors;
}

RetentionTotals RetentionScheduler::totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

}  // namespace sluice::cluster
