// Log: making appended data durable (flush rounds, FlushTogether across
// logs, the recovery-point checkpoint).
#include "storage/log.h"

#include <algorithm>
#include <map>

#include "base/mutex.h"
#include "storage/checkpoint.h"
#include "storage/saturating.h"

namespace sluice::storage {

Status Log::Flush() {
  int64_t target;
  {
    MutexLock lock(&mu_);
    target = leo_;
  }
  return FlushTo(target);
}

Status Log::PreallocateIfLatencyBound(uint64_t chunk) {
  std::shared_ptr<Segment> active;
  {
    MutexLock lock(&mu_);
    if (chunk == 0 || closed_ || !failed_.ok()) return failed_;
    Segment& seg = *segments_.back().segment;
    if (seg.preallocated() >= chunk / 4 || last_round_bytes_ >= chunk / 16) return Status::Ok();
    // Not past segment.bytes: the segment rolls there anyway.
    const uint64_t end = std::min<uint64_t>(seg.size() + chunk, static_cast<uint64_t>(config_.segment_bytes));
    if (end <= seg.size() + seg.preallocated()) return Status::Ok();
    // Under the mutex: appends must not write where the zeros go.
    SLUICE_RETURN_IF_ERROR(seg.Preallocate(end));
    active = segments_.back().segment;
  }
  Status s = active->SyncLog();
  if (!s.ok()) {
    // The sync may have consumed a write-back error of appended data too.
    MutexLock lock(&mu_);
    if (failed_.ok()) failed_ = s;
  }
  return s;
}

Status Log::FlushTo(int64_t offset) {
  MutexLock lock(&mu_);
  bool counted = false;
  while (true) {
    if (!failed_.ok()) return failed_;
    const int64_t want = std::min(offset, leo_);
    if (flushed_ >= want) return Status::Ok();
    if (closed_) return Status::Aborted("log is closed");
    if (!counted) {
      ++stats_.flush_requests;
      counted = true;
    }
    const bool covered = std::any_of(in_flight_goals_.begin(), in_flight_goals_.end(),
                                     [want](int64_t g) { return g >= want; });
    if (exclusive_ || covered || active_flushers_ >= kMaxConcurrentFlushes) {
      flush_cv_.Wait(&mu_);
      continue;
    }
    FlushRound round = StartFlushRoundLocked();
    lock.Unlock();
    Status s;
    if (round.epochs) s = epochs_->Persist(*round.epochs);  // Before the batches that use them.
    for (auto& [seg, indexes] : round.work) {
      if (s.ok()) s = seg->SyncLog();
      if (s.ok() && indexes) s = seg->SyncIndexes();
    }
    lock.Lock();
    FinishFlushRoundLocked(round, s);
  }
}

Log::FlushRound Log::StartFlushRoundLocked() {
  // Become a flusher for everything appended so far. Each round syncs every
  // segment that may hold data above the flushed offset (usually just the
  // active one) plus pending index files, so it proves `goal` durable on its
  // own, whatever other flushers are doing.
  ++active_flushers_;
  ++stats_.flush_syncs;
  last_round_bytes_ = appended_bytes_ - appended_at_last_round_;
  appended_at_last_round_ = appended_bytes_;
  FlushRound round;
  round.goal = leo_;
  in_flight_goals_.push_back(round.goal);
  round.epochs = epochs_->Unpersisted();
  for (size_t i = SegmentFor(flushed_); i < segments_.size(); ++i) {
    const bool active = i + 1 == segments_.size();
    round.work.emplace_back(segments_[i].segment, segments_[i].indexes_unsynced && !active);
  }
  return round;
}

void Log::FinishFlushRoundLocked(const FlushRound& round, const Status& s) {
  in_flight_goals_.erase(std::find(in_flight_goals_.begin(), in_flight_goals_.end(), round.goal));
  if (s.ok()) {
    flushed_ = std::max(flushed_, round.goal);
    for (const auto& [seg, indexes] : round.work) {
      if (!indexes) continue;
      for (SegmentEntry& e : segments_) {
        if (e.segment == seg) e.indexes_unsynced = false;
      }
    }
  } else {
    failed_ = s;  // After a failed fdatasync nothing about the file is known.
  }
  if (flushed_ >= leo_) unflushed_messages_ = 0;
  // The recovery point file moves when the flushed offset leaves the
  // segment it names, so a crash rescans at most about one segment.
  const int64_t cp = checkpointed_recovery_point_.load();
  const bool checkpoint = s.ok() && flushed_ > cp &&
                          segments_[SegmentFor(std::max<int64_t>(cp, 0))].segment !=
                              segments_.back().segment;
  const int64_t cp_value = flushed_;
  flush_cv_.SignalAll();
  if (checkpoint) {
    mu_.Unlock();
    Status cs = WriteRecoveryPoint(cp_value, /*allow_lower=*/false);
    mu_.Lock();
    if (!cs.ok() && failed_.ok()) failed_ = cs;
  }
  --active_flushers_;
  flush_cv_.SignalAll();
}

std::vector<Status> Log::FlushTogether(const std::vector<Log*>& logs) {
  std::vector<Status> out(logs.size());
  std::vector<std::optional<FlushRound>> rounds(logs.size());
  std::vector<size_t> on_their_own;
  // Data directory -> a log in it (for its FileSystem).
  std::map<std::filesystem::path, Log*> dirs;
  for (size_t i = 0; i < logs.size(); ++i) {
    Log& log = *logs[i];
    MutexLock lock(&log.mu_);
    if (!log.failed_.ok()) {
      out[i] = log.failed_;
    } else if (log.flushed_ >= log.leo_) {
      out[i] = Status::Ok();
    } else if (log.closed_) {
      out[i] = Status::Aborted("log is closed");
    } else if (log.exclusive_ || log.active_flushers_ >= kMaxConcurrentFlushes) {
      on_their_own.push_back(i);  // Truncating, closing or busy: Flush() waits its turn.
    } else {
      ++log.stats_.flush_requests;
      rounds[i] = log.StartFlushRoundLocked();
      dirs.emplace(log.dir_.parent_path(), &log);
    }
  }
  for (size_t i = 0; i < logs.size(); ++i) {
    if (rounds[i] && rounds[i]->epochs) out[i] = logs[i]->epochs_->Persist(*rounds[i]->epochs);
  }
  // Everything written before the syncfs starts is durable when it returns.
  std::map<std::filesystem::path, Status> synced;
  for (const auto& [dir, log] : dirs) synced[dir] = log->fs_->SyncFileSystem(dir);
  for (size_t i = 0; i < logs.size(); ++i) {
    if (!rounds[i]) continue;
    Log& log = *logs[i];
    if (out[i].ok()) out[i] = synced[log.dir_.parent_path()];
    MutexLock lock(&log.mu_);
    log.FinishFlushRoundLocked(*rounds[i], out[i]);
  }
  for (size_t i : on_their_own) out[i] = logs[i]->Flush();
  return out;
}

Status Log::WriteRecoveryPoint(int64_t offset, bool allow_lower) {
  MutexLock lock(&checkpoint_mu_);
  if (offset == checkpointed_recovery_point_.load() ||
      (!allow_lower && offset < checkpointed_recovery_point_.load())) {
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(WriteOffsetCheckpoint(fs_, dir_, kRecoveryPointCheckpoint, offset));
  checkpointed_recovery_point_ = offset;
  return Status::Ok();
}

Status Log::MaybeFlush() {
  {
    MutexLock lock(&mu_);
    if (config_.flush_ms == LogConfig::kUnbounded || unflushed_messages_ == 0 ||
        SaturatingSub(Now(), first_unflushed_ms_) < config_.flush_ms) {
      return Status::Ok();
    }
  }
  return Flush();
}

void Log::AcquireFlushToken() {
  while (exclusive_ || active_flushers_ != 0) flush_cv_.Wait(&mu_);
  exclusive_ = true;
}

void Log::ReleaseFlushToken() {
  exclusive_ = false;
  flush_cv_.SignalAll();
}

Status Log::CheckpointRecoveryPoint() {
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  AcquireFlushToken();
  Status s = WriteRecoveryPoint(flushed_, /*allow_lower=*/true);
  ReleaseFlushToken();
  return s;
}

}  // namespace sluice::storage
