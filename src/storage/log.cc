#include "storage/log.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "storage/checkpoint.h"
#include "storage/cleaner_files.h"
#include "base/mutex.h"
#include "storage/saturating.h"

namespace sluice::storage {

namespace fs = std::filesystem;

Log::Log(fs::path dir, const LogConfig& config, LogOptions options)
    : dir_(std::move(dir)), config_(config), options_(std::move(options)), fs_(options_.fs) {
  if (!options_.clock) {
    options_.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

Log::~Log() = default;

Result<std::unique_ptr<Log>> Log::Open(const fs::path& dir, const LogConfig& config,
                                       LogOptions options) {
  SLUICE_RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<Log> log(new Log(dir, config, std::move(options)));
  {
    MutexLock lock(&log->mu_);
    SLUICE_RETURN_IF_ERROR(log->Load());
  }
  return log;
}

// Opening:
//  0. finish or discard what the log cleaner left (cleaner_files.h);
//  1. list `<base>.log` files (anything else is left alone);
//  2. clean shutdown: load each segment's indexes (rebuilding bad ones) and
//     scan the last segment's tail for the LEO;
//  3. otherwise: segments wholly below the recovery point are trusted the
//     same way; from the segment holding the recovery point on, the indexes
//     are rebuilt and every batch is validated (its CRC only from the
//     recovery point on); the first invalid batch and
//     everything after it (later segments included) is dropped;
//  4. clamp log start / epochs to what survived.
Status Log::Load() {
  if (options_.new_dir) {
    epochs_ = LeaderEpochCache::Empty(fs_, dir_);
    Result<std::unique_ptr<Segment>> seg =
        Segment::Create(fs_, dir_, 0, config_, Now(), options_.file_cache);
    if (!seg.ok()) return seg.status();
    segments_.push_back({std::move(*seg), false});
    return Status::Ok();  // Every offset is 0.
  }
  SLUICE_RETURN_IF_ERROR(RecoverCleanerFiles(fs_, dir_, &notes_));
  Result<CleanerCheckpoint> cleaner = ReadCleanerCheckpoint(fs_, dir_);
  if (cleaner.ok()) {
    clean_end_ = cleaner->clean_end;
    compacted_end_ = cleaner->compacted_end;
  } else if (cleaner.status().IsCorruption()) {
    // Unknown which segments were rewritten: accept gaps everywhere.
    notes_.push_back(cleaner.status().ToString());
    compacted_end_ = std::numeric_limits<int64_t>::max();
  } else {
    return cleaner.status();
  }
  Result<std::vector<DirEntry>> entries = fs_->List(dir_);
  if (!entries.ok()) return entries.status();
  std::vector<int64_t> bases;
  for (const DirEntry& e : *entries) {
    if (e.is_dir) continue;
    if (std::optional<int64_t> base = ParseSegmentLogName(e.name)) {
      bases.push_back(*base);
    }
  }
  std::sort(bases.begin(), bases.end());

  Result<std::unique_ptr<LeaderEpochCache>> cache = LeaderEpochCache::Load(fs_, dir_);
  bool rebuild_epochs = false;
  if (cache.ok()) {
    epochs_ = std::move(*cache);
  } else if (cache.status().IsCorruption()) {
    // As Kafka: a corrupt checkpoint counts as missing. Every batch carries
    // its epoch, so the history is rebuilt from them once the log is loaded.
    notes_.push_back(cache.status().ToString() + "; treated as missing");
    epochs_ = LeaderEpochCache::Empty(fs_, dir_);
    rebuild_epochs = true;
  } else {
    return cache.status();
  }
  Result<std::optional<int64_t>> start_ckpt =
      ReadOffsetCheckpoint(fs_, dir_ / kLogStartOffsetCheckpoint);
  if (!start_ckpt.ok()) return start_ckpt.status();
  Result<std::optional<int64_t>> rp_ckpt = ReadOffsetCheckpoint(fs_, dir_ / kRecoveryPointCheckpoint);
  if (!rp_ckpt.ok()) return rp_ckpt.status();
  const int64_t now = Now();

  if (bases.empty()) {
    const int64_t base = start_ckpt->value_or(0);
    Result<std::unique_ptr<Segment>> seg =
        Segment::Create(fs_, dir_, base, config_, now, options_.file_cache);
    if (!seg.ok()) return seg.status();
    segments_.push_back({std::move(*seg), false});
  } else {
    const int64_t rp = options_.clean_shutdown ? std::numeric_limits<int64_t>::max()
                                               : rp_ckpt->value_or(0);
    for (size_t i = 0; i < bases.size(); ++i) {
      Result<std::unique_ptr<Segment>> seg =
          Segment::Open(fs_, dir_, bases[i], config_, now, options_.file_cache);
      if (!seg.ok()) return seg.status();
      (*seg)->set_compacted(bases[i] < compacted_end_);
      segments_.push_back({std::move(*seg), false});
    }
    // First segment to validate: the one holding the recovery point.
    size_t first_recover = segments_.size();
    if (!options_.clean_shutdown) {
      first_recover = 0;
      while (first_recover + 1 < segments_.size() &&
             segments_[first_recover + 1].segment->base_offset() <= rp) {
        ++first_recover;
      }
    }
    for (size_t i = 0; i < segments_.size(); ++i) {
      Segment& seg = *segments_[i].segment;
      if (i < first_recover) {
        bool rebuilt = false;
        SLUICE_RETURN_IF_ERROR(seg.LoadIndexes(&rebuilt));
        if (rebuilt) notes_.push_back("rebuilt the indexes of segment " + std::to_string(seg.base_offset()));
        if (i + 1 < segments_.size()) {
          seg.set_next_offset(segments_[i + 1].segment->base_offset());
        } else {
          SLUICE_RETURN_IF_ERROR(seg.ScanTail());
        }
        continue;
      }
      bool contiguous = true;
      if (i > 0) {
        // A compacted segment may have lost the records at its end.
        Segment& prev = *segments_[i - 1].segment;
        contiguous = prev.next_offset() == seg.base_offset() ||
                     (prev.compacted() && prev.next_offset() < seg.base_offset());
        if (contiguous) prev.set_next_offset(seg.base_offset());
      }
      uint64_t dropped = 0;
      if (contiguous) {
        // Below the recovery point the bytes were fsynced: no CRC, so a
        // crash costs what was written after the last checkpoint, not the
        // whole active segment.
        // Epochs of batches past the recovery point may not have reached
        // the checkpoint file (it is written at flush): take them from the
        // batches, as RebuildEpochs does for the whole log.
        Result<uint64_t> r = seg.Recover(/*synced_end=*/rp, [this](const model::RecordBatchHeader& h) {
          NoteBatchEpoch(h, epochs_.get());
        });
        if (!r.ok()) return r.status();
        dropped = *r;
        if (dropped > 0) {
          notes_.push_back("recovery truncated " + std::to_string(dropped) +
                           " invalid bytes at the end of segment " + std::to_string(seg.base_offset()));
        }
        segments_[i].indexes_unsynced = true;
        if (i + 1 < segments_.size()) SLUICE_RETURN_IF_ERROR(seg.WriteIndexes());
      }
      // A segment after a gap, or after a segment whose tail was cut, holds
      // nothing we can serve contiguously: delete it and every later one.
      size_t drop_from = !contiguous ? i : (dropped > 0 ? i + 1 : segments_.size());
      if (drop_from < segments_.size()) {
        for (size_t j = drop_from; j < segments_.size(); ++j) {
          notes_.push_back("recovery deleted segment " +
                           std::to_string(segments_[j].segment->base_offset()) +
                           " after the end of the valid log");
          SLUICE_RETURN_IF_ERROR(segments_[j].segment->Delete());
        }
        segments_.resize(drop_from);
        break;
      }
    }
  }

  leo_ = segments_.back().segment->next_offset();
  log_start_ = std::clamp(std::max(start_ckpt->value_or(0), segments_.front().segment->base_offset()),
                          segments_.front().segment->base_offset(), leo_);
  flushed_ = options_.clean_shutdown ? leo_ : std::min(rp_ckpt->value_or(0), leo_);
  flushed_ = std::max(flushed_, std::min(segments_.front().segment->base_offset(), leo_));
  checkpointed_recovery_point_ = rp_ckpt->value_or(0);  // A missing file means 0.
  hw_ = std::max(flushed_, log_start_);
  clean_end_ = std::clamp(clean_end_, log_start_, leo_);
  if (rebuild_epochs) SLUICE_RETURN_IF_ERROR(RebuildEpochs());
  SLUICE_RETURN_IF_ERROR(epochs_->TruncateFromEnd(leo_));
  SLUICE_RETURN_IF_ERROR(epochs_->TruncateFromStart(log_start_));
  if (std::optional<EpochSnapshot> epochs = epochs_->Unpersisted()) {
    SLUICE_RETURN_IF_ERROR(epochs_->Persist(*epochs));
  }
  if (checkpointed_recovery_point_.load() > leo_) {
    // Recovery cut below the old recovery point: never let a later crash
    // trust bytes that will be appended there.
    SLUICE_RETURN_IF_ERROR(WriteRecoveryPoint(flushed_, /*allow_lower=*/true));
  }
  return Status::Ok();
}

void Log::NoteBatchEpoch(const model::RecordBatchHeader& batch, LeaderEpochCache* epochs) {
  const int32_t epoch = batch.partition_leader_epoch;
  const std::optional<int32_t> latest = epochs->latest_epoch();
  if (epoch >= 0 && (!latest || epoch > *latest)) (void)epochs->Assign(epoch, batch.base_offset);
}

Status Log::RebuildEpochs() {
  std::unique_ptr<LeaderEpochCache> rebuilt = LeaderEpochCache::Empty(fs_, dir_);
  for (const SegmentEntry& e : segments_) {
    const Segment& seg = *e.segment;
    BatchScanner scanner(*seg.log_file(), 0, seg.size());
    while (true) {
      Result<std::optional<ScannedBatch>> b = scanner.Next();
      if (!b.ok()) return b.status();
      if (!b->has_value()) break;
      NoteBatchEpoch((*b)->header, rebuilt.get());
    }
  }
  notes_.push_back("rebuilt " + std::to_string(rebuilt->entries().size()) +
                   " leader epoch(s) from the batch headers");
  return epochs_->Reset(rebuilt->entries());
}

size_t Log::SegmentFor(int64_t offset) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t o, const SegmentEntry& e) {
                               return o < e.segment->base_offset();
                             });
  return it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
}

Status Log::RollLocked(int64_t now_ms) {
  SegmentEntry& old = segments_.back();
  if (old.segment->preallocated() > 0) {
    // Only the active segment may end in zeros: start-up trusts the size of
    // the others once the recovery point is past them, so the cut is made
    // durable now. Rare: preallocation is for logs appended slowly.
    SLUICE_RETURN_IF_ERROR(old.segment->TrimPreallocated());
    SLUICE_RETURN_IF_ERROR(old.segment->SyncLog());
  }
  SLUICE_RETURN_IF_ERROR(old.segment->WriteIndexes());
  old.indexes_unsynced = true;
  Result<std::unique_ptr<Segment>> seg =
      Segment::Create(fs_, dir_, leo_, config_, now_ms, options_.file_cache);
  if (!seg.ok()) return seg.status();
  segments_.push_back({std::move(*seg), false});
  return Status::Ok();
}

Result<AppendResult> Log::Append(std::span<uint8_t> batch, int32_t leader_epoch) {
  return AppendBatch(batch, leader_epoch, /*as_follower=*/false);
}

Result<AppendResult> Log::AppendAsFollower(std::span<const uint8_t> batch) {
  // AppendBatch writes into the batch only for a leader (as_follower=false).
  std::span<uint8_t> unchanged(const_cast<uint8_t*>(batch.data()), batch.size());
  return AppendBatch(unchanged, /*leader_epoch=*/-1, /*as_follower=*/true);
}

Result<AppendResult> Log::AppendBatch(std::span<uint8_t> batch, int32_t leader_epoch,
                                      bool as_follower) {
  Result<model::RecordBatchHeader> parsed = model::ParseRecordBatchHeader(batch);
  if (!parsed.ok()) return Status::InvalidArgument(parsed.status().message());
  model::RecordBatchHeader h = *parsed;
  if (h.size_bytes() != batch.size()) {
    return Status::InvalidArgument("batch_length does not match the bytes given");
  }
  if (h.last_offset_delta < 0) return Status::InvalidArgument("negative last_offset_delta");
  if (as_follower) leader_epoch = h.partition_leader_epoch;

  AppendResult result;
  bool flush_now = false;
  {
    MutexLock lock(&mu_);
    // A follower copies what its leader accepted, whatever this replica's
    // own max.message.bytes says (as Kafka's followers do).
    if (!as_follower && batch.size() > static_cast<size_t>(config_.max_message_bytes)) {
      return Status::InvalidArgument("batch of " + std::to_string(batch.size()) +
                                     " bytes exceeds max.message.bytes");
    }
    if (closed_) return Status::Aborted("log is closed");
    if (!failed_.ok()) return failed_;
    std::optional<int32_t> latest = epochs_->latest_epoch();
    if (latest && leader_epoch < *latest) {
      return Status::InvalidArgument("leader epoch " + std::to_string(leader_epoch) +
                                     " is below the latest epoch " + std::to_string(*latest));
    }
    if (as_follower) {
      // The leader's offsets are kept; compaction on the leader may leave a
      // gap before the batch, never an overlap.
      if (h.base_offset < leo_) {
        return Status::InvalidArgument("batch at offset " + std::to_string(h.base_offset) +
                                       " is below the log end offset " + std::to_string(leo_));
      }
      if (h.last_offset_delta > std::numeric_limits<int64_t>::max() - 1 - h.base_offset) {
        return Status::InvalidArgument("last_offset_delta runs past the largest offset");
      }
    } else {
      if (h.last_offset_delta > std::numeric_limits<int64_t>::max() - 1 - leo_) {
        return Status::InvalidArgument("last_offset_delta runs past the largest offset");
      }
      h.base_offset = leo_;
      h.partition_leader_epoch = leader_epoch;
    }
    const int64_t now = Now();
    if (segments_.back().segment->NeedsRoll(h, now, config_)) {
      SLUICE_RETURN_IF_ERROR(RollLocked(now));
    }
    // The epoch is recorded before the batch and written to its file by the
    // flush that makes the batch durable (recovery re-learns epochs from
    // batches past the recovery point), so the file may name an epoch with
    // no batch (harmless) but never misses one whose batches are durable.
    if (leader_epoch >= 0 && (!latest || leader_epoch > *latest)) {
      SLUICE_RETURN_IF_ERROR(epochs_->Assign(leader_epoch, h.base_offset));
    }
    if (!as_follower) {
      model::SetBaseOffset(batch, h.base_offset);
      model::SetPartitionLeaderEpoch(batch, leader_epoch);
    }
    SegmentEntry& active = segments_.back();
    bool unrecoverable = false;
    Result<uint64_t> pos = active.segment->Append(batch, h, &unrecoverable);
    if (!pos.ok()) {
      if (unrecoverable) failed_ = pos.status();
      return pos.status();
    }
    leo_ = h.last_offset() + 1;
    appended_bytes_ += batch.size();
    result = {h.base_offset, h.last_offset(), *pos, active.segment->base_offset()};
    if (unflushed_messages_ == 0) first_unflushed_ms_ = now;
    unflushed_messages_ += std::max<int64_t>(h.record_count, 1);
    flush_now = unflushed_messages_ >= config_.flush_messages ||
                (config_.flush_ms != LogConfig::kUnbounded &&
                 SaturatingSub(now, first_unflushed_ms_) >= config_.flush_ms);
  }
  if (flush_now) SLUICE_RETURN_IF_ERROR(FlushTo(result.last_offset + 1));
  return result;
}

Result<ReadResult> Log::Read(int64_t offset, uint64_t max_bytes, int64_t max_offset) {
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log is closed");
  if (offset < log_start_ || offset > leo_) {
    return Status::OutOfRange("offset " + std::to_string(offset) + " is outside [" +
                              std::to_string(log_start_) + ", " + std::to_string(leo_) + "]");
  }
  ReadResult out;
  out.next_offset = offset;
  const int64_t limit = std::min(max_offset, leo_);
  for (size_t i = SegmentFor(offset); i < segments_.size() && out.next_offset < limit; ++i) {
    const std::shared_ptr<Segment>& seg = segments_[i].segment;
    if (seg->next_offset() <= out.next_offset) continue;
    Result<SegmentRead> r =
        seg->Read(out.next_offset, max_bytes - out.size_bytes, limit, out.slices.empty());
    if (!r.ok()) return r.status();
    if (r->past_end) {
      // The rest of a compacted segment was cleaned away; go on with the next.
      out.next_offset = std::min(seg->next_offset(), limit);
      continue;
    }
    if (r->length == 0) break;
    // The slice holds the descriptor open until it is sent.
    Result<std::shared_ptr<File>> file = seg->PinLog();
    if (!file.ok()) return file.status();
    const int fd = (*file)->fd();
    out.slices.push_back(FileSlice{std::move(*file), fd, r->position, r->length});
    if (out.first_offset < 0) out.first_offset = r->first_offset;
    out.size_bytes += r->length;
    out.next_offset = r->next_offset;
    if (out.size_bytes >= max_bytes) break;
  }
  return out;
}

Status Log::ForEachBatchHeader(int64_t offset,
                               const std::function<void(const model::RecordBatchHeader&)>& fn) {
  struct Range {
    std::shared_ptr<File> file;  // pinned open
    uint64_t start, end;
  };
  std::vector<Range> ranges;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::Aborted("log is closed");
    for (size_t i = SegmentFor(offset); i < segments_.size(); ++i) {
      const std::shared_ptr<Segment>& seg = segments_[i].segment;
      std::optional<OffsetIndexEntry> floor = seg->offset_index().Floor(offset);
      const uint64_t start = floor ? floor->position : 0;
      // Nothing to read (an empty log, as most are just after a create or
      // at start-up): no descriptor to reopen.
      if (start >= seg->size()) continue;
      Result<std::shared_ptr<File>> file = seg->PinLog();
      if (!file.ok()) return file.status();
      ranges.push_back({std::move(*file), start, seg->size()});
    }
  }
  // The files are read without the mutex: they stay open while `ranges`
  // pins them, even if retention deletes a segment. (Pinned, not reopened:
  // `fn` must see each batch once, so a retry is no way out of a segment
  // replaced meanwhile. Callers read the tail: a few segments.)
  for (const Range& r : ranges) {
    BatchScanner scanner(*r.file, r.start, r.end);
    while (true) {
      Result<std::optional<ScannedBatch>> b = scanner.Next();
      if (!b.ok()) return b.status();
      if (!b->has_value()) break;
      if ((*b)->header.last_offset() >= offset) fn((*b)->header);
    }
  }
  return Status::Ok();
}

Result<std::optional<TimestampLookup>> Log::FindOffsetByTimestamp(int64_t timestamp) {
  struct Range {
    std::shared_ptr<File> file;
    uint64_t start, end;
  };
  // Usually the first range holds the answer; a later one only when the
  // records behind a batch's max timestamp were compacted away. So only the
  // first is pinned; the others (maybe every segment of the log) are read
  // through the file cache, which reports a segment deleted or replaced
  // since as Aborted: the lookup then starts over from the current segments.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    std::vector<Range> ranges;
    int64_t log_start;
    {
      MutexLock lock(&mu_);
      if (closed_) return Status::Aborted("log is closed");
      log_start = log_start_;
      for (const SegmentEntry& e : segments_) {
        const Segment& seg = *e.segment;
        if (seg.next_offset() <= log_start_ || seg.max_timestamp() < timestamp) continue;
        std::shared_ptr<File> file = seg.log_file();
        if (ranges.empty()) {
          Result<std::shared_ptr<File>> pinned = seg.PinLog();
          if (!pinned.ok()) return pinned.status();
          file = std::move(*pinned);
        }
        ranges.push_back({std::move(file), seg.TimestampSearchStart(timestamp, log_start_),
                          seg.size()});
      }
    }
    // Read without the mutex (batches may be decompressed); appends only
    // add bytes past each range's end.
    Result<std::optional<TimestampLookup>> found = std::optional<TimestampLookup>();
    for (const Range& r : ranges) {
      found = SearchForTimestamp(*r.file, r.start, r.end, timestamp, log_start);
      if (!found.ok() || found->has_value()) break;
    }
    if (found.ok() || found.status().code() != StatusCode::kAborted || attempt == kAttempts) {
      return found;
    }
  }
}

Result<std::optional<TimestampLookup>> Log::FindMaxTimestamp() {
  std::shared_ptr<File> file;
  uint64_t start = 0, end = 0;
  int64_t max_timestamp = -1;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::Aborted("log is closed");
    const Segment* best = nullptr;
    for (const SegmentEntry& e : segments_) {
      if (e.segment->max_timestamp() > max_timestamp) {
        best = e.segment.get();
        max_timestamp = best->max_timestamp();
      }
    }
    if (best == nullptr) return std::optional<TimestampLookup>();
    Result<std::shared_ptr<File>> pinned = best->PinLog();
    if (!pinned.ok()) return pinned.status();
    file = std::move(*pinned);
    start = best->PositionAtOrBefore(best->offset_of_max_timestamp());
    end = best->size();
  }
  return FindRecordWithMaxTimestamp(*file, start, end, max_timestamp);
}

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

Status Log::Close() {
  closing_ = true;
  MutexLock cleaner(&cleaner_mu_);  // A running cleaning gives up soon.
  MutexLock mutation(&mutation_mu_);
  MutexLock lock(&mu_);
  if (closed_) return Status::Ok();
  AcquireFlushToken();
  Status s = failed_;
  if (s.ok()) {
    if (std::optional<EpochSnapshot> epochs = epochs_->Unpersisted()) s = epochs_->Persist(*epochs);
    // Only what is not durable yet: with thousands of partitions, syncing
    // every file of every log made a shutdown take minutes.
    for (SegmentEntry& e : segments_) {
      Segment& seg = *e.segment;
      // A clean start trusts file sizes: no zero tail may stay.
      const bool trimmed = seg.preallocated() > 0;
      if (s.ok() && trimmed) s = seg.TrimPreallocated();
      if (s.ok() && (seg.next_offset() > flushed_ || trimmed)) s = seg.SyncLog();
      if (s.ok() && seg.indexes_dirty()) {
        s = seg.WriteIndexes();
        e.indexes_unsynced = true;
      }
      if (s.ok() && e.indexes_unsynced) s = seg.SyncIndexes();
      if (s.ok()) e.indexes_unsynced = false;
    }
  }
  if (s.ok()) s = WriteRecoveryPoint(leo_, /*allow_lower=*/true);
  if (s.ok()) flushed_ = leo_;
  closed_ = true;
  ReleaseFlushToken();
  return s;
}

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

void Log::UpdateConfig(const LogConfig& config) {
  MutexLock lock(&mu_);
  config_ = config;
}

LogConfig Log::config() {
  MutexLock lock(&mu_);
  return config_;
}

std::pair<int32_t, int64_t> Log::EndOffsetForEpoch(int32_t epoch) {
  MutexLock lock(&mu_);
  return epochs_->EndOffsetFor(epoch, leo_);
}

std::vector<EpochEntry> Log::epochs() {
  MutexLock lock(&mu_);
  return epochs_->entries();
}

void Log::SetHighWatermark(int64_t hw) {
  MutexLock lock(&mu_);
  hw_ = std::clamp(hw, log_start_, leo_);
}

int64_t Log::high_watermark() {
  MutexLock lock(&mu_);
  return hw_;
}
int64_t Log::log_start_offset() {
  MutexLock lock(&mu_);
  return log_start_;
}
int64_t Log::log_end_offset() {
  MutexLock lock(&mu_);
  return leo_;
}
int64_t Log::flushed_offset() {
  MutexLock lock(&mu_);
  return flushed_;
}
size_t Log::segment_count() {
  MutexLock lock(&mu_);
  return segments_.size();
}
uint64_t Log::size_bytes() {
  MutexLock lock(&mu_);
  uint64_t total = 0;
  for (const SegmentEntry& e : segments_) total += e.segment->size();
  return total;
}
std::vector<int64_t> Log::segment_bases() {
  MutexLock lock(&mu_);
  std::vector<int64_t> out;
  for (const SegmentEntry& e : segments_) out.push_back(e.segment->base_offset());
  return out;
}
LogStats Log::stats() {
  MutexLock lock(&mu_);
  return stats_;
}
Status Log::health() {
  MutexLock lock(&mu_);
  return failed_;
}

}  // namespace sluice::storage
