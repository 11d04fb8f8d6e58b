// One segment of a partition log: `<base>.log` holding v2 record batches
// exactly as they are served, plus its offset and time indexes (index.h).
// File names carry the 20-digit zero-padded base offset, as in Kafka.
//
// The .log is not mmapped: appends are plain pwrites at the tracked end,
// reads are FileSlices for sendfile, so a mapping would buy nothing.
//
// The active segment may be preallocated (Preallocate): zeros actually
// written past the data, so that appends overwrite allocated blocks without
// changing the file's size and an fdatasync need not write the inode too
// (a third fewer I/Os per sync; fallocate's unwritten extents would still
// change metadata on first write). size() is always the data's end; the
// zero tail is cut off when the segment stops being active (TrimPreallocated)
// and recovery tells it apart from a torn write.
//
// Ownership: a Segment owns its .log through a shared_ptr<File>: with a
// FileCache (the broker's case) a CachedFile whose descriptor the cache
// opens and closes (file_cache.h), else the open file itself. A FileSlice
// returned by a read holds the open file (PinLog()), so the bytes stay
// readable after the Segment is deleted (POSIX keeps unlinked files open)
// and whatever the cache does meanwhile. Index files are opened for each
// load or write, never kept.
//
// Not thread-safe: the Log calls every method under its mutex, except Sync(),
// which only touches the File and may run concurrently with Append. A closed
// segment is immutable, so the log cleaner reads it through log_file()
// without the mutex; a cleaned copy is built privately (CreateCleaned) and
// only handed to the Log for the swap (cleaner_swap.h).
//
// Compacted segments (compacted()) may have offset gaps: the cleaner removes
// records and whole batches but keeps every surviving offset, so their first
// batch may start above base_offset() and consecutive batches need not be
// contiguous. Recovery then only requires increasing offsets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/record_batch_header.h"
#include "storage/batch_scanner.h"
#include "storage/file.h"
#include "storage/file_cache.h"
#include "storage/index.h"
#include "storage/log_config.h"

namespace sluice::storage {

// "00000000000000000042.log" for (42, ".log").
std::string SegmentFileName(int64_t base_offset, std::string_view extension);
// The base offset of a "<20 digits>.log" name; nullopt for any other name.
std::optional<int64_t> ParseSegmentLogName(std::string_view name);

struct SegmentRead {
  uint64_t position = 0;  // of the first batch returned
  uint64_t length = 0;    // 0 when nothing qualifies
  int64_t first_offset = -1;  // base offset of the first batch returned
  int64_t next_offset = -1;   // last offset of the last batch returned + 1
  // No batch at or after the offset: the rest of the segment was compacted
  // away, the next segment continues.
  bool past_end = false;
};

class Segment {
 public:
  // Creates empty files for a new segment (truncating leftovers of a
  // previous incarnation at the same base, e.g. after a truncation).
  // With `cache`, the .log's descriptor is the cache's to open and close
  // (so for Open and CreateCleaned too).
  static Result<std::unique_ptr<Segment>> Create(FileSystem* fs, const std::filesystem::path& dir,
                                                 int64_t base_offset, const LogConfig& config,
                                                 int64_t now_ms, FileCache* cache = nullptr);
  // Opens an existing .log. The caller then makes it usable with either
  // Recover() or LoadIndexes() (+ ScanTail() for the last segment).
  static Result<std::unique_ptr<Segment>> Open(FileSystem* fs, const std::filesystem::path& dir,
                                               int64_t base_offset, const LogConfig& config,
                                               int64_t now_ms, FileCache* cache = nullptr);
  // A new compacted segment whose three files carry the ".cleaned" suffix
  // (`<base>.log.cleaned`, ...), for the log cleaner to fill with Append.
  static Result<std::unique_ptr<Segment>> CreateCleaned(FileSystem* fs,
                                                        const std::filesystem::path& dir,
                                                        int64_t base_offset,
                                                        const LogConfig& config, int64_t now_ms,
                                                        FileCache* cache = nullptr);

  int64_t base_offset() const { return base_offset_; }
  // One past the last offset stored (== base_offset() when empty).
  int64_t next_offset() const { return next_offset_; }
  void set_next_offset(int64_t next) { next_offset_ = next; }
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Largest batch max_timestamp in the segment, -1 if none.
  int64_t max_timestamp() const { return max_timestamp_; }
  // max_timestamp of the first batch, -1 if none.
  int64_t first_batch_timestamp() const { return first_batch_timestamp_; }
  // Last offset of the first batch that reached max_timestamp(), -1 if none.
  int64_t offset_of_max_timestamp() const { return offset_of_max_timestamp_; }
  // Offset gaps allowed (see above); set for segments the cleaner may have
  // rewritten, before Recover()/LoadIndexes().
  bool compacted() const { return compacted_; }
  void set_compacted(bool compacted) { compacted_ = compacted; }
  // The .log; with a cache, each call on it may reopen the descriptor, and
  // fails with Aborted if the file was removed or replaced meanwhile.
  const std::shared_ptr<File>& log_file() const { return log_; }
  // The .log held open while the result lives (PinOpenFile): for a
  // FileSlice, or a read of many batches without the log's mutex.
  Result<std::shared_ptr<File>> PinLog() const { return PinOpenFile(log_); }
  const OffsetIndex& offset_index() const { return offset_index_; }
  const TimeIndex& time_index() const { return time_index_; }

  // True when appending `batch` (header with its final offsets) requires a
  // new segment first. segment.ms is measured as Kafka does: the incoming
  // batch's max timestamp minus the first batch's, or wall-clock time since
  // creation when the first batch carries no timestamp (both saturating:
  // timestamps are the client's and may be anything). For a compacted log
  // max.compaction.lag.ms caps segment.ms (LogConfig::RollMs), so that the
  // records of a slow log leave the active segment, which is never cleaned,
  // in time to be compacted by then.
  // `config` is the log's current one: segment.bytes and segment.ms may
  // have changed since this segment was created (a topic config change, or
  // a restart, which opens logs with the broker defaults first).
  bool NeedsRoll(const model::RecordBatchHeader& batch, int64_t now_ms,
                 const LogConfig& config) const;

  // Appends one batch whose header already carries its final base offset and
  // epoch. REQUIRES: header.base_offset == next_offset(), !NeedsRoll(...).
  // On a write error the partial bytes are truncated off and the segment is
  // unchanged; if even that truncation fails, *unrecoverable is set.
  Result<uint64_t> Append(std::span<const uint8_t> batch, const model::RecordBatchHeader& header,
                          bool* unrecoverable);

  // The first batch whose last offset >= `offset`, nullopt if none.
  Result<std::optional<ScannedBatch>> FindBatch(int64_t offset) const;

  // Whole batches starting at the one holding `offset`, each with last
  // offset < `max_offset`, totalling <= max_bytes -- except that the first
  // batch is returned whatever its size when `at_least_one`.
  Result<SegmentRead> Read(int64_t offset, uint64_t max_bytes, int64_t max_offset,
                           bool at_least_one) const;

  // Where a search for the first record with timestamp >= `timestamp` and
  // offset >= `min_offset` may start (timestamp_search.h): a batch boundary
  // before which every batch has a smaller max timestamp or lies wholly
  // below `min_offset`. From the indexes alone, no I/O.
  uint64_t TimestampSearchStart(int64_t timestamp, int64_t min_offset) const;
  // A batch boundary at or before the batch holding `offset`.
  uint64_t PositionAtOrBefore(int64_t offset) const;

  // Drops every batch from the one holding `offset` on (Kafka truncates at a
  // batch boundary). Returns the new next_offset().
  Result<int64_t> TruncateTo(int64_t offset);

  // Validates every batch from the start (header sanity, magic, CRC32C,
  // offsets contiguous from base_offset() -- only increasing when
  // compacted() --, epochs non-decreasing), rebuilds
  // both indexes, and truncates the file at the first bad batch. Returns the
  // number of bytes dropped, not counting a tail of zeros (preallocated
  // space, which is cut off too). Batches wholly below `synced_end` (the log's
  // recovery point: fsynced before it was written) skip the CRC, so the
  // cost is reading their headers, not their bytes. `on_batch` sees each
  // batch kept.
  Result<uint64_t> Recover(
      int64_t synced_end = -1,
      const std::function<void(const model::RecordBatchHeader&)>& on_batch = {});

  // Loads both indexes, validating them; a missing or corrupt one is rebuilt
  // with Recover(). *rebuilt tells which happened.
  Status LoadIndexes(bool* rebuilt);
  // Finds next_offset() and the max timestamp by scanning from the last
  // offset-index entry to the end. For the last segment of a cleanly shut
  // down log, whose bytes are trusted.
  Status ScanTail();

  // Writes index entries not yet in the files (adding the final time-index
  // entry, as Kafka does when a segment becomes inactive). No sync.
  Status WriteIndexes();
  // The indexes changed since they were last written (or loaded).
  bool indexes_dirty() const { return indexes_dirty_; }
  // fdatasync of the .log only.
  Status SyncLog() { return log_->Sync(); }

  // Writes zeros from the file's end up to `end` (no-op if it is there
  // already). Appends then land in them; size() does not change.
  Status Preallocate(uint64_t end);
  // Bytes of the file past the data (written zeros), 0 when none.
  uint64_t preallocated() const { return file_size_ - size_; }
  // Cuts the zero tail off (no sync).
  Status TrimPreallocated();
  // fdatasync of both index files (after WriteIndexes).
  Status SyncIndexes();

  // Unlinks the three files (.log first, so a crash never leaves indexes
  // of a live .log behind); open FileSlices keep the .log readable.
  Status Delete();

  // After the cleaner's files were renamed to their final names: drops the
  // suffix and reopens the .log under its final path (holders of the old
  // handle keep reading the same bytes).
  Status AdoptFinalNames();

 private:
  Segment(FileSystem* fs, FileCache* cache, std::filesystem::path dir, int64_t base_offset,
          const LogConfig& config, std::shared_ptr<File> log, uint64_t size, int64_t now_ms);

  // Updates indexes and counters for a batch at `position` (append and rebuild).
  void TrackBatch(const model::RecordBatchHeader& header, uint64_t position);
  void ResetTracking();
  std::filesystem::path PathFor(std::string_view extension) const;

  FileSystem* fs_;
  FileCache* cache_;  // null: log_ is the open file itself
  std::filesystem::path dir_;
  std::string suffix_;  // appended to every file name; "" but while being cleaned
  int64_t base_offset_;
  LogConfig config_;
  std::shared_ptr<File> log_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  uint64_t size_;       // end of the data
  uint64_t file_size_;  // >= size_; the rest is preallocated zeros
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t offset_of_max_timestamp_ = -1;
  int64_t created_ms_;
  int64_t first_batch_timestamp_ = -1;
  uint64_t bytes_since_index_entry_ = 0;
  bool compacted_ = false;
  bool indexes_dirty_ = false;
};

}  // namespace sluice::storage
