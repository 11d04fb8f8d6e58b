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
