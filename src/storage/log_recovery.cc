// Log: opening a log directory (Load): segments found on disk, the tail
// after the recovery point checked batch by batch, leader epochs rebuilt.
#include "storage/log.h"

#include <algorithm>
#include <map>

#include "base/mutex.h"
#include "storage/checkpoint.h"
#include "storage/cleaner_files.h"
#include "storage/saturating.h"

namespace sluice::storage {

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

}  // namespace sluice::storage
