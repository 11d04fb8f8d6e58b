// The two sparse indexes beside each segment, in Kafka's on-disk formats:
//
//   <base>.index      8-byte entries: int32 relative offset, int32 position
//                     (offset = the last offset of the batch at `position`)
//   <base>.timeindex 12-byte entries: int64 timestamp, int32 relative offset
//                     (the segment's max timestamp so far and the offset
//                     where it was first reached)
//
// Both big-endian, strictly increasing in every field.
//
// Why no preallocation or mmap (Kafka preallocates segment.index.bytes and
// mmaps it): the entries live in a vector and are appended to the file only
// when the segment rolls or the log closes. The file therefore always holds
// exactly `size / entry_size` real entries (no zero tail to trim or to mistake
// for data after a crash), and the active segment's index, which recovery
// rebuilds anyway, costs no syscalls on the append path.
//
// Not thread-safe: the owning Segment's caller (the Log) serializes access.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::storage {

struct OffsetIndexEntry {
  int64_t offset = 0;     // absolute
  uint32_t position = 0;  // byte position of the batch in the .log
};

struct TimeIndexEntry {
  int64_t timestamp = 0;
  int64_t offset = 0;  // absolute
};

// Entries of one index kept in memory, and how many of them are in the file.
template <typename Entry>
class SparseIndex {
 public:
  SparseIndex(int64_t base_offset, size_t max_entries)
      : base_offset_(base_offset), max_entries_(max_entries) {}

  size_t size() const { return entries_.size(); }
  bool full() const { return entries_.size() >= max_entries_; }
  bool empty() const { return entries_.empty(); }
  const Entry& back() const { return entries_.back(); }
  const std::vector<Entry>& entries() const { return entries_; }
  void Clear() {
    entries_.clear();
    persisted_ = 0;
  }

 protected:
  int64_t base_offset_;
  size_t max_entries_;
  std::vector<Entry> entries_;
  size_t persisted_ = 0;  // entries_[0, persisted_) are in the file
};

class OffsetIndex : public SparseIndex<OffsetIndexEntry> {
 public:
  static constexpr size_t kEntrySize = 8;
  using SparseIndex::SparseIndex;

  // Reads the file and checks every entry: size a multiple of the entry size,
  // offsets and positions strictly increasing, offsets within
  // [base, base + 2^31), positions below `log_size`. Corruption otherwise (the
  // caller rebuilds; a bad index is never trusted).
  Status Load(const File& file, uint64_t log_size);
  // REQUIRES: !full(), offset and position above back()'s.
  void Append(int64_t offset, uint32_t position);
  // The last entry whose offset <= `offset`, if any. O(log n).
  std::optional<OffsetIndexEntry> Floor(int64_t offset) const;
  // The last entry with position <= `max_position` and offset < `max_offset`,
  // if any: every batch before its position is whole and below max_offset.
  std::optional<OffsetIndexEntry> LastWithin(uint64_t max_position, int64_t max_offset) const;
  // Drops entries for batches at or after byte `position`.
  void TruncateToPosition(uint64_t position);
  // Makes the file equal the entries (does not sync).
  Status WriteTo(File& file);
};

class TimeIndex : public SparseIndex<TimeIndexEntry> {
 public:
  static constexpr size_t kEntrySize = 12;
  using SparseIndex::SparseIndex;

  // As OffsetIndex::Load; offsets must be below `next_offset` when known.
  Status Load(const File& file);
  // Appends when `timestamp` is above the last entry's. REQUIRES: !full().
  void MaybeAppend(int64_t timestamp, int64_t offset);
  // The last entry whose timestamp < `timestamp`: every batch before its
  // offset has a smaller max timestamp, so a search for `timestamp` may start
  // at the batch holding that offset.
  std::optional<TimeIndexEntry> LastBelow(int64_t timestamp) const;
  // Drops entries whose offset >= `offset`.
  void TruncateToOffset(int64_t offset);
  Status WriteTo(File& file);
};

}  // namespace sluice::storage
