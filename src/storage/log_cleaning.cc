// Log: its side of compaction (the cleaner's lease, snapshots of closed
// segments, swapping cleaned segments in).
#include "storage/log.h"

#include <algorithm>

#include "base/mutex.h"
#include "storage/cleaner_files.h"

namespace sluice::storage {

Result<CleanerLease> Log::BeginCleaning() {
  if (cleaning_aborted()) return Status::Aborted("log is closed");
  cleaner_mu_.Lock();
  CleanerLease lease(&cleaner_mu_);  // Unlocks when the pass drops it.
  if (cleaning_aborted()) return Status::Aborted("log is closed");
  return lease;
}

Result<CleanerSnapshot> Log::SnapshotForCleaning(const CleanerLease&) {
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  if (!failed_.ok()) return failed_;
  CleanerSnapshot snap;
  snap.config = config_;
  snap.clean_end = std::clamp(clean_end_, log_start_, leo_);
  snap.tombstones_due_ms = tombstones_due_ms_;
  snap.generation = generation_;
  const int64_t limit = std::min(hw_, flushed_);
  snap.now_ms = Now();
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    const std::shared_ptr<Segment>& seg = segments_[i].segment;
    if (seg->next_offset() > limit) break;
    snap.segments.push_back({seg, seg->log_file(), seg->base_offset(), seg->next_offset(),
                             seg->size(), seg->max_timestamp(), seg->first_batch_timestamp()});
  }
  return snap;
}

Result<std::unique_ptr<Segment>> Log::CreateCleanedSegment(const CleanerLease&, int64_t base) {
  LogConfig config;
  int64_t now;
  {
    MutexLock lock(&mu_);
    config = config_;
    now = Now();
  }
  return Segment::CreateCleaned(fs_, dir_, base, config, now, options_.file_cache);
}

void Log::AbandonCleaned(const CleanerLease&, std::unique_ptr<Segment> cleaned) {
  const int64_t base = cleaned->base_offset();
  cleaned.reset();
  DiscardCleanedFiles(fs_, dir_, base);
}

Status Log::MarkCompactedUpTo(const CleanerLease&, int64_t offset) {
  MutexLock mutation(&mutation_mu_);
  int64_t clean_end;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::Aborted("log is closed");
    if (offset <= compacted_end_) return Status::Ok();
    clean_end = clean_end_;
  }
  // mutation_mu_ and the lease keep every other writer of the file out.
  SLUICE_RETURN_IF_ERROR(WriteCleanerCheckpoint(fs_, dir_, {clean_end, offset}));
  MutexLock lock(&mu_);
  compacted_end_ = offset;
  return Status::Ok();
}

Status Log::SwapInCleaned(const CleanerLease&, const std::shared_ptr<Segment>& old,
                          std::unique_ptr<Segment> cleaned, uint64_t generation) {
  const int64_t base = old->base_offset();
  // Step 1 of the protocol: the cleaned files are durable before the commit.
  Status s = cleaned->WriteIndexes();
  if (s.ok()) s = cleaned->SyncLog();
  if (s.ok()) s = cleaned->SyncIndexes();
  if (!s.ok()) {
    DiscardCleanedFiles(fs_, dir_, base);
    return s;
  }
  MutexLock mutation(&mutation_mu_);
  bool drop = false;
  int64_t old_next = 0;
  {
    MutexLock lock(&mu_);
    std::optional<size_t> at = FindClosedSegment(old);
    if (closed_ || !failed_.ok() || generation != generation_ || !at) {
      DiscardCleanedFiles(fs_, dir_, base);
      return Status::Aborted("segment " + std::to_string(base) + " changed while being cleaned");
    }
    drop = cleaned->empty() && *at > 0;
    old_next = old->next_offset();
  }
  if (drop) {
    DiscardCleanedFiles(fs_, dir_, base);
    {
      // Appends only push_back and mutation_mu_ keeps other removals out,
      // so the position found above still holds the segment.
      MutexLock lock(&mu_);
      const size_t at = *FindClosedSegment(old);
      segments_[at - 1].segment->set_next_offset(old_next);
      segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(at));
    }
    // Durable before any later swap: a later segment may lose a tombstone
    // that only this segment's records still need.
    Status d = old->Delete();
    if (d.ok()) d = fs_->SyncDir(dir_);
    if (!d.ok()) {
      // The files may outlive the in-memory segment: stop here until a
      // reopen sees them again.
      MutexLock lock(&mu_);
      if (failed_.ok()) failed_ = d;
    }
    return d;
  }
  cleaned->set_next_offset(old_next);
  s = CommitCleanedSegment(fs_, dir_, base);
  if (s.ok()) s = cleaned->AdoptFinalNames();
  MutexLock lock(&mu_);
  if (!s.ok()) {
    // The files may be anywhere in the protocol; reopening sorts them out.
    if (failed_.ok()) failed_ = s;
    return s;
  }
  segments_[*FindClosedSegment(old)] = {std::shared_ptr<Segment>(std::move(cleaned)), false};
  return Status::Ok();
}

std::optional<size_t> Log::FindClosedSegment(const std::shared_ptr<Segment>& seg) const {
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    if (segments_[i].segment == seg) return i;
  }
  return std::nullopt;
}

Status Log::FinishCleaning(const CleanerLease&, int64_t clean_end, int64_t tombstones_due_ms) {
  MutexLock mutation(&mutation_mu_);
  int64_t compacted_end;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::Aborted("log is closed");
    tombstones_due_ms_ = tombstones_due_ms;
    clean_end = std::min(clean_end, leo_);
    if (clean_end == clean_end_) return Status::Ok();
    compacted_end = compacted_end_;
  }
  SLUICE_RETURN_IF_ERROR(WriteCleanerCheckpoint(fs_, dir_, {clean_end, compacted_end}));
  MutexLock lock(&mu_);
  clean_end_ = clean_end;
  return Status::Ok();
}

}  // namespace sluice::storage
