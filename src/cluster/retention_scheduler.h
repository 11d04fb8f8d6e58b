// RetentionScheduler: the background thread that applies the time-driven
// log policies, as Kafka's log manager tasks do:
//
//   every log.retention.check.interval.ms   Log::EnforceRetention on every
//                                           log with a retention limit
//   every log.flush.scheduler.interval.ms   Log::MaybeFlush (flush.ms); off
//                                           by default (Kafka's default too)
//   every log.flush.offset.checkpoint.interval.ms
//                                           Log::CheckpointRecoveryPoint: a
//                                           crash then re-validates only what
//                                           was written since (else the log
//                                           moves it only on segment roll)
//
// Retention applies to topics whose cleanup.policy contains "delete"
// ("compact,delete" included): ToLogConfig clears both limits otherwise, and
// logs without a limit are skipped. Every deletion is logged and counted.
// The logs are shared_ptrs copied from the LogManager, so a topic deleted
// meanwhile never frees a log in use; its closed log answers Aborted and is
// skipped. Segments roll only on append (as in Kafka), so an idle partition
// keeps its active segment whatever segment.ms says, and retention never
// deletes the active segment.
//
// The Flusher already syncs every append (group commit), so the flush task
// only matters when that changes; it is there for Kafka's semantics.
//
// The intervals are measured on options.clock (monotonic). The thread's
// whole schedule is RunDue(): it runs what is due and says how long to
// wait; tests call it themselves with a fake clock instead of starting the
// thread and sleeping through intervals.
//
// Thread-safe. The thread waits on a condition variable: Stop() is prompt,
// also in the middle of a round (checked between logs).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "metrics/broker_metrics.h"
#include "storage/log_manager.h"
#include "base/mutex.h"

namespace sluice::cluster {

struct RetentionSchedulerOptions {
  int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  // log.flush.scheduler.interval.ms; values of a century or more mean never.
  int64_t flush_check_interval_ms = INT64_MAX;
  int64_t recovery_point_checkpoint_interval_ms = 60000;  // log.flush.offset.checkpoint.interval.ms
  // Monotonic milliseconds the intervals are measured on. Empty: the
  // steady clock.
  std::function<int64_t()> clock;
};

struct RetentionTotals {
  uint64_t rounds = 0;
  uint64_t segments_deleted = 0;
  uint64_t bytes_deleted = 0;
  uint64_t errors = 0;  // failed EnforceRetention/MaybeFlush/CheckpointRecoveryPoint calls
  uint64_t flush_rounds = 0;
  uint64_t checkpoint_rounds = 0;
};

class RetentionScheduler {
 public:
  // `logs` must outlive the scheduler; `metrics` may be null.
  RetentionScheduler(storage::LogManager* logs, RetentionSchedulerOptions options,
                     metrics::BrokerMetrics* metrics = nullptr);
  ~RetentionScheduler();  // Stop()
  RetentionScheduler(const RetentionScheduler&) = delete;
  RetentionScheduler& operator=(const RetentionScheduler&) = delete;

  void Start();
  // Joins the thread. Idempotent.
  void Stop();

  // Runs each task whose interval has passed on options.clock since it last
  // ran (the first time: since construction), then returns the
  // milliseconds until the next one is due; nullopt if none ever is.
  // REQUIRES: not called concurrently with itself (nor after Start).
  std::optional<int64_t> RunDue();

  // One retention round over every log, on the calling thread (no Start
  // needed). Returns the segments it deleted.
  uint64_t EnforceRetentionOnce();
  // One flush.ms round: Log::MaybeFlush on every log.
  void FlushOnce();
  // One recovery-point round: Log::CheckpointRecoveryPoint on every log.
  void CheckpointRecoveryPointsOnce();

  RetentionTotals totals() const;

 private:
  void Run() EXCLUDES(mu_);
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }
  int64_t Now() const { return options_.clock(); }
  // Now + interval_ms, or nullopt for an interval that means never.
  std::optional<int64_t> Next(int64_t interval_ms) const;

  storage::LogManager* const logs_;
  const RetentionSchedulerOptions options_;
  metrics::BrokerMetrics* const metrics_;
  mutable Mutex mu_;
  CondVar cv_;  // signalled by Stop
  std::atomic<bool> stop_{false};
  RetentionTotals totals_ GUARDED_BY(mu_);
  // When each task is due next (options_.clock); only RunDue touches them.
  std::optional<int64_t> next_retention_ms_;
  std::optional<int64_t> next_flush_ms_;
  std::optional<int64_t> next_checkpoint_ms_;
  std::thread thread_;
};

}  // namespace sluice::cluster
