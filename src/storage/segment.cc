#include "storage/segment.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <vector>

#include "storage/saturating.h"

namespace sluice::storage {

namespace fs = std::filesystem;
using model::RecordBatchHeader;

std::string SegmentFileName(int64_t base_offset, std::string_view extension) {
  return fmt::format("{:020d}{}", base_offset, extension);
}

std::optional<int64_t> ParseSegmentLogName(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".log")) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || end != name.data() + 20 || v < 0) return std::nullopt;
  return v;
}

namespace {

// Opens `path` as an empty file, truncating only a leftover that has data:
// on ext4 (auto_da_alloc) a truncate to 0, even of an empty file, marks the
// inode so that its last close writes back every dirty page. A segment's
// last close comes when retention deletes it, so a fresh segment truncated
// here would be written to disk just to be discarded (and the deleting
// thread would wait for that writeback; see docs/benchmarks.md, Storage).
Result<std::shared_ptr<File>> OpenEmpty(FileSystem* fs, const fs::path& path) {
  Result<std::shared_ptr<File>> f = fs->Open(path, true);
  if (!f.ok()) return f;
  Result<uint64_t> size = (*f)->Size();
  if (!size.ok()) return size.status();
  if (*size > 0) SLUICE_RETURN_IF_ERROR((*f)->Truncate(0));
  return f;
}

// `opened` as the segment keeps it: handed to the cache, if there is one.
Result<std::shared_ptr<File>> Keep(FileSystem* fs, FileCache* cache,
                                   Result<std::shared_ptr<File>> opened) {
  if (!opened.ok() || cache == nullptr) return opened;
  return cache->Adopt(fs, std::move(*opened));
}

// Whether bytes [from, to) of `file` are all zero.
Result<bool> AllZero(const File& file, uint64_t from, uint64_t to) {
  std::vector<uint8_t> buf(64 * 1024);
  while (from < to) {
    std::span<uint8_t> part(buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), to - from)));
    SLUICE_RETURN_IF_ERROR(ReadFully(file, from, part));
    if (std::any_of(part.begin(), part.end(), [](uint8_t b) { return b != 0; })) return false;
    from += part.size();
  }
  return true;
}

}  // namespace

Segment::Segment(FileSystem* fs, FileCache* cache, fs::path dir, int64_t base_offset,
                 const LogConfig& config, std::shared_ptr<File> log, uint64_t size, int64_t now_ms)
    : fs_(fs),
      cache_(cache),
      dir_(std::move(dir)),
      base_offset_(base_offset),
      config_(config),
      log_(std::move(log)),
      offset_index_(base_offset, static_cast<size_t>(config.segment_index_bytes) / OffsetIndex::kEntrySize),
      time_index_(base_offset, static_cast<size_t>(config.segment_index_bytes) / TimeIndex::kEntrySize),
      size_(size),
      file_size_(size),
      next_offset_(base_offset),
      created_ms_(now_ms) {}

fs::path Segment::PathFor(std::string_view extension) const {
  return dir_ / (SegmentFileName(base_offset_, extension) + suffix_);
}

Result<std::unique_ptr<Segment>> Segment::Create(FileSystem* fs, const fs::path& dir,
                                                 int64_t base_offset, const LogConfig& config,
                                                 int64_t now_ms, FileCache* cache) {
  // A leftover of an earlier segment at this base (after a truncation) is emptied.
  Result<std::shared_ptr<File>> log =
      Keep(fs, cache, OpenEmpty(fs, dir / SegmentFileName(base_offset, ".log")));
  if (!log.ok()) return log.status();
  std::unique_ptr<Segment> seg(new Segment(fs, cache, dir, base_offset, config, *log, 0, now_ms));
  // Stale index files from an earlier segment at this base must not be loaded
  // later; empty them now. A new segment has none (an empty segment's
  // missing index files load as empty), which saves two file creations per
  // partition when thousands are created at once.
  for (const char* ext : {".index", ".timeindex"}) {
    Result<bool> stale = fs->Exists(seg->PathFor(ext));
    if (!stale.ok()) return stale.status();
    if (*stale) {
      SLUICE_RETURN_IF_ERROR(seg->WriteIndexes());
      break;
    }
  }
  return seg;
}

Result<std::unique_ptr<Segment>> Segment::CreateCleaned(FileSystem* fs, const fs::path& dir,
                                                        int64_t base_offset,
                                                        const LogConfig& config, int64_t now_ms,
                                                        FileCache* cache) {
  const std::string suffix = ".cleaned";
  // A leftover of an abandoned cleaning is emptied.
  Result<std::shared_ptr<File>> log =
      Keep(fs, cache, OpenEmpty(fs, dir / (SegmentFileName(base_offset, ".log") + suffix)));
  if (!log.ok()) return log.status();
  std::unique_ptr<Segment> seg(new Segment(fs, cache, dir, base_offset, config, *log, 0, now_ms));
  seg->suffix_ = suffix;
  seg->compacted_ = true;
  return seg;
}

Status Segment::AdoptFinalNames() {
  suffix_.clear();
  // A new descriptor (and, with a cache, a new CachedFile: the old one
  // names the path it had while being cleaned).
  Result<std::shared_ptr<File>> log = Keep(fs_, cache_, fs_->Open(PathFor(".log"), false));
  if (!log.ok()) return log.status();
  log_ = std::move(*log);
  return Status::Ok();
}

Result<std::unique_ptr<Segment>> Segment::Open(FileSystem* fs, const fs::path& dir,
                                               int64_t base_offset, const LogConfig& config,
                                               int64_t now_ms, FileCache* cache) {
  Result<std::shared_ptr<File>> log = fs->Open(dir / SegmentFileName(base_offset, ".log"), false);
  if (!log.ok()) return log.status();
  Result<uint64_t> size = (*log)->Size();
  if (!size.ok()) return size.status();
  log = Keep(fs, cache, std::move(log));
  if (!log.ok()) return log.status();
  return std::unique_ptr<Segment>(
      new Segment(fs, cache, dir, base_offset, config, *log, *size, now_ms));
}

bool Segment::NeedsRoll(const RecordBatchHeader& batch, int64_t now_ms,
                        const LogConfig& config) const {
  if (size_ == 0) return false;  // An empty segment takes any batch.
  if (size_ + batch.size_bytes() > static_cast<uint64_t>(config.segment_bytes)) return true;
  const int64_t waited = first_batch_timestamp_ >= 0
                             ? SaturatingSub(batch.max_timestamp, first_batch_timestamp_)
                             : SaturatingSub(now_ms, created_ms_);
  if (waited > config.RollMs()) return true;
  if (batch.last_offset() - base_offset_ > std::numeric_limits<int32_t>::max()) return true;
  // Keep one time-index slot for the final entry written at roll.
  if (offset_index_.full() || time_index_.size() + 1 >= static_cast<size_t>(config_.segment_index_bytes) / TimeIndex::kEntrySize) {
    return true;
  }
  return false;
}

void Segment::TrackBatch(const RecordBatchHeader& h, uint64_t position) {
  indexes_dirty_ = true;
  if (position == 0) first_batch_timestamp_ = h.max_timestamp;
  if (h.max_timestamp > max_timestamp_) {
    max_timestamp_ = h.max_timestamp;
    offset_of_max_timestamp_ = h.last_offset();
  }
  if (bytes_since_index_entry_ > static_cast<uint64_t>(config_.index_interval_bytes) &&
      !offset_index_.full()) {
    offset_index_.Append(h.last_offset(), static_cast<uint32_t>(position));
    if (max_timestamp_ >= 0) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += h.size_bytes();
  next_offset_ = h.last_offset() + 1;
}

void Segment::ResetTracking() {
  indexes_dirty_ = true;
  offset_index_.Clear();
  time_index_.Clear();
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  bytes_since_index_entry_ = 0;
  next_offset_ = base_offset_;
  first_batch_timestamp_ = -1;
}

Result<uint64_t> Segment::Append(std::span<const uint8_t> batch, const RecordBatchHeader& header,
                                 bool* unrecoverable) {
  const uint64_t position = size_;
  Status s = log_->Write(position, batch);
  if (!s.ok()) {
    // Some prefix may have landed; cut it off so the file ends at a batch
    // boundary. If that fails too, the caller must stop writing.
    if (!log_->Truncate(position).ok()) *unrecoverable = true;
    return s;
  }
  TrackBatch(header, position);
  size_ += batch.size();
  file_size_ = std::max(file_size_, size_);
  return position;
}

Status Segment::Preallocate(uint64_t end) {
  static constexpr size_t kZeroChunk = 64 * 1024;
  static const std::vector<uint8_t> zeros(kZeroChunk, 0);
  while (file_size_ < end) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kZeroChunk, end - file_size_));
    Status s = log_->Write(file_size_, std::span<const uint8_t>(zeros.data(), n));
    if (!s.ok()) {
      // Leave no partial zeros behind a known end.
      (void)log_->Truncate(file_size_);
      return s;
    }
    file_size_ += n;
  }
  return Status::Ok();
}

Status Segment::TrimPreallocated() {
  if (file_size_ == size_) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(log_->Truncate(size_));
  file_size_ = size_;
  return Status::Ok();
}

Result<std::optional<ScannedBatch>> Segment::FindBatch(int64_t offset) const {
  uint64_t start = 0;
  if (std::optional<OffsetIndexEntry> e = offset_index_.Floor(offset)) start = e->position;
  BatchScanner scanner(*log_, start, size_);
  while (true) {
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (!b.ok() || !b->has_value()) return b;
    if ((*b)->header.last_offset() >= offset) return b;
  }
}

Result<SegmentRead> Segment::Read(int64_t offset, uint64_t max_bytes, int64_t max_offset,
                                  bool at_least_one) const {
  SegmentRead out;
  Result<std::optional<ScannedBatch>> first = FindBatch(offset);
  if (!first.ok()) return first.status();
  if (!first->has_value()) {
    out.past_end = true;
    return out;
  }
  const ScannedBatch& b = **first;
  if (b.header.last_offset() >= max_offset) return out;
  if (b.size() > max_bytes && !at_least_one) return out;
  out.position = b.position;
  out.first_offset = b.header.base_offset;
  out.length = b.size();
  out.next_offset = b.header.last_offset() + 1;
  // Fast path: the rest of the segment fits and is below max_offset.
  if (next_offset_ <= max_offset && size_ - b.position <= std::max<uint64_t>(max_bytes, b.size())) {
    out.length = size_ - b.position;
    out.next_offset = next_offset_;
    return out;
  }
  // Jump over whole batches with the index instead of reading every header:
  // an entry's position is a batch boundary, and all batches before it are
  // below its offset.
  uint64_t scan_from = b.position + b.size();
  if (b.size() <= max_bytes) {
    std::optional<OffsetIndexEntry> e = offset_index_.LastWithin(b.position + max_bytes, max_offset);
    if (e && e->position > scan_from) {
      out.length = e->position - b.position;
      scan_from = e->position;
    }
  }
  BatchScanner scanner(*log_, scan_from, size_);
  while (true) {
    Result<std::optional<ScannedBatch>> n = scanner.Next();
    if (!n.ok()) return n.status();
    if (!n->has_value()) {
      out.next_offset = next_offset_;
      break;
    }
    const ScannedBatch& nb = **n;
    out.next_offset = nb.header.base_offset;
    if (nb.header.last_offset() >= max_offset || out.length + nb.size() > max_bytes) break;
    out.length += nb.size();
    out.next_offset = nb.header.last_offset() + 1;
  }
  return out;
}

uint64_t Segment::PositionAtOrBefore(int64_t offset) const {
  std::optional<OffsetIndexEntry> e = offset_index_.Floor(offset);
  return e ? e->position : 0;
}

uint64_t Segment::TimestampSearchStart(int64_t timestamp, int64_t min_offset) const {
  // The time index entry (ts, offset) says the segment's max timestamp was
  // first reached at `offset`: every batch up to the one holding it has a
  // max timestamp <= ts < `timestamp`.
  int64_t from = min_offset;
  if (std::optional<TimeIndexEntry> t = time_index_.LastBelow(timestamp)) {
    from = std::max(from, t->offset);
  }
  return PositionAtOrBefore(from);
}

Result<int64_t> Segment::TruncateTo(int64_t offset) {
  Result<std::optional<ScannedBatch>> b = FindBatch(offset);
  if (!b.ok()) return b.status();
  if (!b->has_value()) {
    // Only a compacted segment's removed tail can hold `offset` here.
    next_offset_ = std::min(next_offset_, offset);
    return next_offset_;
  }
  const uint64_t position = (*b)->position;
  SLUICE_RETURN_IF_ERROR(log_->Truncate(position));
  file_size_ = position;
  indexes_dirty_ = true;
  // In a compacted segment `offset` may fall in a gap before the batch.
  const int64_t new_next = std::min((*b)->header.base_offset, offset);
  offset_index_.TruncateToPosition(position);
  time_index_.TruncateToOffset(new_next);
  // Recompute the max timestamp from the last time entry that survived plus
  // every batch after the batch it points into.
  uint64_t from = 0;
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  if (!time_index_.empty()) {
    max_timestamp_ = time_index_.back().timestamp;
    offset_of_max_timestamp_ = time_index_.back().offset;
    if (std::optional<OffsetIndexEntry> e = offset_index_.Floor(time_index_.back().offset)) {
      from = e->position;
    }
  }
  BatchScanner scanner(*log_, from, position);
  while (true) {
    Result<std::optional<ScannedBatch>> n = scanner.Next();
    if (!n.ok()) return n.status();
    if (!n->has_value()) break;
    if ((*n)->header.max_timestamp > max_timestamp_) {
      max_timestamp_ = (*n)->header.max_timestamp;
      offset_of_max_timestamp_ = (*n)->header.last_offset();
    }
  }
  size_ = position;
  next_offset_ = new_next;
  bytes_since_index_entry_ = position - (offset_index_.empty() ? 0 : offset_index_.back().position);
  if (size_ == 0) {
    ResetTracking();
    next_offset_ = new_next;
  }
  return next_offset_;
}

Result<uint64_t> Segment::Recover(
    int64_t synced_end, const std::function<void(const RecordBatchHeader&)>& on_batch) {
  ResetTracking();
  const uint64_t file_size = size_;
  size_ = 0;
  BatchScanner scanner(*log_, 0, file_size);
  int32_t last_epoch = -1;
  while (true) {
    // No max.message.bytes check: the limit in force when the batch was
    // written may have been larger (a topic override, since lowered); the
    // CRC and the length against the file already reject garbage (Kafka
    // checks no size here either).
    Result<std::optional<ScannedBatch>> b = scanner.Next(/*verify_crc=*/true, synced_end);
    if (!b.ok() || !b->has_value()) break;  // A bad batch ends the valid prefix.
    const RecordBatchHeader& h = (*b)->header;
    // base_offset and the epoch are outside the CRC: check them by context.
    // The cleaner leaves gaps, so compacted segments only need increasing offsets.
    if (compacted_ ? h.base_offset < next_offset_ : h.base_offset != next_offset_) break;
    if (h.partition_leader_epoch < last_epoch) break;
    last_epoch = h.partition_leader_epoch;
    TrackBatch(h, (*b)->position);
    size_ += h.size_bytes();
    if (on_batch) on_batch(h);
  }
  uint64_t dropped = file_size - size_;
  if (dropped > 0) {
    Result<bool> zeros = AllZero(*log_, size_, file_size);
    if (!zeros.ok()) return zeros.status();
    if (*zeros) dropped = 0;  // Preallocated space, not lost data.
    SLUICE_RETURN_IF_ERROR(log_->Truncate(size_));
  }
  file_size_ = size_;
  return dropped;
}

Status Segment::LoadIndexes(bool* rebuilt) {
  *rebuilt = false;
  Status s;
  Result<std::shared_ptr<File>> oi = fs_->Open(PathFor(".index"), false);
  if (!oi.ok() && oi.status().IsNotFound() && size_ == 0) {
    return Status::Ok();  // Never written (Create): empty, like the segment.
  }
  s = oi.ok() ? offset_index_.Load(**oi, size_) : oi.status();
  if (s.ok()) {
    Result<std::shared_ptr<File>> ti = fs_->Open(PathFor(".timeindex"), false);
    s = ti.ok() ? time_index_.Load(**ti) : ti.status();
  }
  if (s.ok() && !offset_index_.empty()) {
    // Kafka's sanity check: the last entry must point at a batch that ends
    // exactly at the offset it names.
    BatchScanner scanner(*log_, offset_index_.back().position, size_);
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (!b.ok() || !b->has_value() || (*b)->header.last_offset() != offset_index_.back().offset) {
      s = Status::Corruption("offset index does not match the log");
    }
  }
  if (s.ok() && !time_index_.empty()) {
    max_timestamp_ = time_index_.back().timestamp;
    offset_of_max_timestamp_ = time_index_.back().offset;
  }
  if (s.ok() && size_ > 0) {
    // segment.ms counts from the first batch's timestamp.
    BatchScanner scanner(*log_, 0, size_);
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (b.ok() && b->has_value()) first_batch_timestamp_ = (*b)->header.max_timestamp;
  }
  if (s.ok()) return s;
  if (!s.IsNotFound() && !s.IsCorruption()) return s;  // An I/O error is not "rebuild".
  *rebuilt = true;
  Result<uint64_t> dropped = Recover();
  if (!dropped.ok()) return dropped.status();
  // Persist the rebuilt indexes right away so the next start trusts them.
  SLUICE_RETURN_IF_ERROR(WriteIndexes());
  return SyncIndexes();
}

Status Segment::ScanTail() {
  uint64_t start = offset_index_.empty() ? 0 : offset_index_.back().position;
  BatchScanner scanner(*log_, start, size_);
  while (true) {
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (!b.ok()) return b.status();
    if (!b->has_value()) break;
    const RecordBatchHeader& h = (*b)->header;
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.last_offset();
      indexes_dirty_ = true;  // The time index lacks its final entry.
    }
    next_offset_ = h.last_offset() + 1;
  }
  bytes_since_index_entry_ = size_ - start;
  return Status::Ok();
}

Status Segment::WriteIndexes() {
  if (max_timestamp_ >= 0) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
  Result<std::shared_ptr<File>> oi = fs_->Open(PathFor(".index"), true);
  if (!oi.ok()) return oi.status();
  Result<std::shared_ptr<File>> ti = fs_->Open(PathFor(".timeindex"), true);
  if (!ti.ok()) return ti.status();
  SLUICE_RETURN_IF_ERROR(offset_index_.WriteTo(**oi));
  SLUICE_RETURN_IF_ERROR(time_index_.WriteTo(**ti));
  indexes_dirty_ = false;
  return Status::Ok();
}

Status Segment::SyncIndexes() {
  for (const char* ext : {".index", ".timeindex"}) {
    Result<std::shared_ptr<File>> f = fs_->Open(PathFor(ext), true);
    if (!f.ok()) return f.status();
    SLUICE_RETURN_IF_ERROR((*f)->Sync());
  }
  return Status::Ok();
}

Status Segment::Delete() {
  for (const char* ext : {".log", ".index", ".timeindex"}) {
    Status s = fs_->Remove(PathFor(ext));
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::Ok();
}

}  // namespace sluice::storage
