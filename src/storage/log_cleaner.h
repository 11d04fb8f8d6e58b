// LogCleaner: background compaction (cleanup.policy=compact) of every log a
// LogManager holds, as Kafka's LogCleaner does. What one pass does is in
// cleaner_pass.h; the on-disk protocol of a segment swap in cleaner_files.h.
//
// `threads` threads each loop over the manager's logs with compaction on,
// skipping logs another thread is cleaning, and run a pass on each that is
// due. A round that cleaned nothing waits `backoff_ms` on a condition
// variable, so Stop() and Wakeup() act at once. Cleaning never holds a log's
// mutex for long (see Log's threading contract): appends, reads and flushes
// go on meanwhile. Stop() interrupts a running pass between two batches; the
// pass discards its unfinished copy. Deleting a log (LogManager::Delete) closes
// it first, which aborts a pass on it the same way.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/cleaner_pass.h"
#include "storage/log_manager.h"
#include "base/mutex.h"

namespace sluice::storage {

struct LogCleanerOptions {
  int threads = 1;                                 // log.cleaner.threads
  int64_t backoff_ms = 15000;                      // log.cleaner.backoff.ms
  size_t dedupe_buffer_bytes = size_t{128} << 20;  // log.cleaner.dedupe.buffer.size, shared
};

struct LogCleanerStats {
  uint64_t passes = 0;
  uint64_t segments_rewritten = 0;
  uint64_t segments_deleted = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  uint64_t records_removed = 0;
  uint64_t tombstones_removed = 0;
  uint64_t errors = 0;  // passes that failed (not counting aborted ones)
  std::string last_error;
};

class LogCleaner {
 public:
  // `logs` must outlive the cleaner.
  LogCleaner(LogManager* logs, LogCleanerOptions options);
  ~LogCleaner();  // Stop()
  LogCleaner(const LogCleaner&) = delete;
  LogCleaner& operator=(const LogCleaner&) = delete;

  void Start();
  // Interrupts running passes and joins the threads. Idempotent.
  void Stop();
  // Ends the backoff wait of every thread now.
  void Wakeup();

  // One round over every log, on the calling thread (no Start needed).
  // Returns the number of passes that ran.
  int CleanRound();

  LogCleanerStats stats() const;

 private:
  void Run() EXCLUDES(mu_);
  // Pass on one log unless another thread has it; true if a pass ran.
  bool CleanOne(const TopicPartition& tp, const std::shared_ptr<Log>& log) EXCLUDES(mu_);
  bool stopping() const EXCLUDES(mu_);

  LogManager* const logs_;
  const LogCleanerOptions options_;
  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  uint64_t wakeups_ GUARDED_BY(mu_) = 0;
  std::set<const Log*> busy_ GUARDED_BY(mu_);  // logs a thread is cleaning
  LogCleanerStats stats_ GUARDED_BY(mu_);
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
};

}  // namespace sluice::storage
