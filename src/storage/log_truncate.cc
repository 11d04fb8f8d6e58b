// Log: cutting a log at either end: truncation of the tail (a follower
// agreeing with its leader) and deletion of the head (retention, log start).
#include "storage/log.h"

#include <algorithm>

#include "base/mutex.h"
#include "storage/checkpoint.h"
#include "storage/saturating.h"

namespace sluice::storage {

Status Log::TruncateTo(int64_t offset) {
  MutexLock mutation(&mutation_mu_);
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  if (!failed_.ok()) return failed_;
  if (offset < log_start_) {
    return Status::InvalidArgument("truncation offset below the log start offset");
  }
  if (offset >= leo_) return Status::Ok();
  ++generation_;  // A cleaning in progress must not swap in the old history.
  AcquireFlushToken();
  Status s = TruncateLocked(offset);
  if (!s.ok()) failed_ = s;  // Segment files and memory may disagree now.
  ReleaseFlushToken();
  return s;
}

Status Log::TruncateLocked(int64_t offset) {
  while (segments_.size() > 1 && segments_.back().segment->base_offset() >= offset) {
    SLUICE_RETURN_IF_ERROR(segments_.back().segment->Delete());
    segments_.pop_back();
  }
  Segment& last = *segments_.back().segment;
  Result<int64_t> next = last.TruncateTo(offset);
  if (!next.ok()) return next.status();
  // Make the cut durable now: old bytes resurfacing after a crash would
  // resurrect a diverged history. The index files lose their stale tail too.
  SLUICE_RETURN_IF_ERROR(last.SyncLog());
  SLUICE_RETURN_IF_ERROR(last.WriteIndexes());
  SLUICE_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  leo_ = *next;
  if (log_start_ > leo_) {
    // The cut fell inside a batch that straddles the log start (DeleteRecords
    // may start the log mid-batch): the whole batch went, so the log now
    // starts where it ends. The checkpoint must agree, or a reopen would
    // start the log past its end.
    log_start_ = leo_;
    SLUICE_RETURN_IF_ERROR(
        WriteOffsetCheckpoint(fs_, dir_, kLogStartOffsetCheckpoint, log_start_));
  }
  hw_ = std::min(hw_, leo_);
  clean_end_ = std::min(clean_end_, leo_);
  flushed_ = std::min(flushed_, leo_);
  if (checkpointed_recovery_point_.load() > flushed_) {
    SLUICE_RETURN_IF_ERROR(WriteRecoveryPoint(flushed_, /*allow_lower=*/true));
  }
  return epochs_->TruncateFromEnd(leo_);
}

Status Log::TruncateFullyAndStartAt(int64_t offset) {
  MutexLock mutation(&mutation_mu_);
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  if (!failed_.ok()) return failed_;
  if (offset <= leo_) {
    return Status::InvalidArgument("a full truncation must start past the log end offset");
  }
  ++generation_;  // A cleaning in progress must not swap in the old history.
  AcquireFlushToken();
  Status s = TruncateFullyLocked(offset);
  if (!s.ok()) failed_ = s;  // Segment files and memory may disagree now.
  ReleaseFlushToken();
  return s;
}

Status Log::TruncateFullyLocked(int64_t offset) {
  // Newest first: a crash part-way leaves a log cut at its tail, and once
  // none is left, Open makes an empty one at the checkpointed log start.
  // The entries stay until the new segment replaces them, so that a failure
  // part-way leaves a failed log with segments (whose reads fail), never
  // one without any.
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    SLUICE_RETURN_IF_ERROR(it->segment->Delete());
  }
  SLUICE_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  SLUICE_RETURN_IF_ERROR(epochs_->Reset({}));
  SLUICE_RETURN_IF_ERROR(WriteOffsetCheckpoint(fs_, dir_, kLogStartOffsetCheckpoint, offset));
  Result<std::unique_ptr<Segment>> seg =
      Segment::Create(fs_, dir_, offset, config_, Now(), options_.file_cache);
  if (!seg.ok()) return seg.status();
  segments_.clear();
  segments_.push_back({std::move(*seg), false});
  SLUICE_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  log_start_ = leo_ = hw_ = clean_end_ = flushed_ = offset;
  unflushed_messages_ = 0;
  first_unflushed_ms_ = -1;
  return WriteRecoveryPoint(offset, /*allow_lower=*/false);
}

Status Log::DeletePrefix(size_t n, int64_t new_log_start) {
  // In memory first, under mu_: readers are refused below the new start at
  // once. The slow part (checkpoint fsyncs, unlinks) runs without mu_ so
  // appends and reads go on; mutation_mu_ keeps other mutators out.
  std::vector<std::shared_ptr<Segment>> doomed;
  for (size_t i = 0; i < n; ++i) doomed.push_back(segments_[i].segment);
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
  const bool moved = new_log_start > log_start_;
  if (moved) {
    log_start_ = new_log_start;
    hw_ = std::max(hw_, log_start_);
    SLUICE_RETURN_IF_ERROR(epochs_->TruncateFromStart(log_start_));
  }
  // Open() takes max(checkpoint, first segment's base) as the log start, so
  // a start at a segment boundary needs no checkpoint (and no fsyncs, which
  // under ext4 data=ordered would also force out the active segment's dirty
  // pages). A start inside a segment (DeleteRecords) must be persisted
  // before the call returns.
  const bool persist = moved && new_log_start != segments_.front().segment->base_offset();
  mu_.Unlock();
  Status s;
  // Persist before deleting: a crash in between only leaves files to delete
  // again, never offsets below the start readable.
  if (persist) s = WriteOffsetCheckpoint(fs_, dir_, kLogStartOffsetCheckpoint, new_log_start);
  for (const std::shared_ptr<Segment>& seg : doomed) {
    if (s.ok()) s = seg->Delete();
  }
  // Drop our references before taking mu_ again: the last close of an
  // unlinked .log frees its page cache, which waits for pages under
  // writeback (and, on ext4 mounted with discard, for the discards): tens of
  // ms per 64 MiB segment that appends and reads must not wait behind. A
  // reader still holding a FileSlice closes it later instead.
  doomed.clear();
  mu_.Lock();
  return s;
}

Status Log::AdvanceLogStartOffset(int64_t offset) {
  MutexLock mutation(&mutation_mu_);
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  if (offset > leo_) return Status::OutOfRange("log start offset beyond the log end offset");
  if (offset <= log_start_) return Status::Ok();
  size_t n = 0;
  while (n + 1 < segments_.size() && segments_[n].segment->next_offset() <= offset) ++n;
  return DeletePrefix(n, offset);
}

Result<RetentionResult> Log::EnforceRetention() {
  MutexLock mutation(&mutation_mu_);
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  const int64_t now = Now();
  RetentionResult result;
  size_t n = 0;
  if (config_.retention_ms >= 0) {
    while (n + 1 < segments_.size()) {
      const Segment& seg = *segments_[n].segment;
      int64_t newest = seg.max_timestamp();
      if (newest < 0) {
        // No record has a timestamp: Kafka ages the segment by its file.
        Result<int64_t> mtime = seg.log_file()->LastModifiedMs();
        if (!mtime.ok()) return mtime.status();
        newest = *mtime;
      }
      if (newest >= SaturatingSub(now, config_.retention_ms)) break;
      ++n;
    }
  }
  result.by_time = static_cast<int>(n);
  if (config_.retention_bytes >= 0) {
    uint64_t total = 0;
    for (const SegmentEntry& e : segments_) total += e.segment->size();
    for (size_t i = 0; i < n; ++i) total -= segments_[i].segment->size();
    // Kafka: delete while what remains is still >= retention.bytes.
    while (n + 1 < segments_.size() &&
           total - segments_[n].segment->size() >= static_cast<uint64_t>(config_.retention_bytes)) {
      total -= segments_[n].segment->size();
      ++n;
    }
  }
  result.segments = static_cast<int>(n);
  for (size_t i = 0; i < n; ++i) result.bytes += segments_[i].segment->size();
  if (n > 0) {
    SLUICE_RETURN_IF_ERROR(
        DeletePrefix(n, std::max(log_start_, segments_[n].segment->base_offset())));
  }
  result.log_start_offset = log_start_;
  return result;
}

}  // namespace sluice::storage
