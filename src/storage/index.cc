#include "storage/index.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/endian.h"

namespace sluice::storage {
namespace {

Result<std::vector<uint8_t>> ReadIndexFile(const File& file, size_t entry_size) {
  Result<uint64_t> size = file.Size();
  if (!size.ok()) return size.status();
  if (*size % entry_size != 0) {
    return Status::Corruption(file.path().string() + ": size " + std::to_string(*size) +
                              " is not a multiple of the entry size");
  }
  std::vector<uint8_t> bytes(*size);
  SLUICE_RETURN_IF_ERROR(ReadFully(file, 0, bytes));
  return bytes;
}

// Makes the file hold exactly `entries`: trims entries dropped since the last
// write (or anything else beyond what we know is there), then appends.
template <typename Entry, typename Encode>
Status WriteEntries(File& file, const std::vector<Entry>& entries, size_t& persisted,
                    size_t entry_size, Encode encode) {
  Result<uint64_t> size = file.Size();
  if (!size.ok()) return size.status();
  if (*size < persisted * entry_size) persisted = 0;  // Someone shortened it: rewrite.
  if (*size != persisted * entry_size) SLUICE_RETURN_IF_ERROR(file.Truncate(persisted * entry_size));
  if (persisted == entries.size()) return Status::Ok();
  std::vector<uint8_t> buf((entries.size() - persisted) * entry_size);
  for (size_t i = persisted; i < entries.size(); ++i) {
    encode(entries[i], buf.data() + (i - persisted) * entry_size);
  }
  SLUICE_RETURN_IF_ERROR(file.Write(persisted * entry_size, buf));
  persisted = entries.size();
  return Status::Ok();
}

}  // namespace

Status OffsetIndex::Load(const File& file, uint64_t log_size) {
  Clear();
  Result<std::vector<uint8_t>> bytes = ReadIndexFile(file, kEntrySize);
  if (!bytes.ok()) return bytes.status();
  const std::string name = file.path().string();
  for (size_t pos = 0; pos < bytes->size(); pos += kEntrySize) {
    int32_t rel = LoadBigEndian<int32_t>(bytes->data() + pos);
    uint32_t position = LoadBigEndian<uint32_t>(bytes->data() + pos + 4);
    OffsetIndexEntry e{base_offset_ + rel, position};
    bool increasing = entries_.empty() ||
                      (e.offset > entries_.back().offset && e.position > entries_.back().position);
    if (rel < 0 || !increasing || position >= log_size) {
      Clear();
      return Status::Corruption(name + ": bad entry " + std::to_string(pos / kEntrySize));
    }
    entries_.push_back(e);
  }
  persisted_ = entries_.size();
  return Status::Ok();
}

void OffsetIndex::Append(int64_t offset, uint32_t position) {
  entries_.push_back({offset, position});
}

std::optional<OffsetIndexEntry> OffsetIndex::Floor(int64_t offset) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), offset,
                             [](int64_t o, const OffsetIndexEntry& e) { return o < e.offset; });
  if (it == entries_.begin()) return std::nullopt;
  return *(it - 1);
}

std::optional<OffsetIndexEntry> OffsetIndex::LastWithin(uint64_t max_position,
                                                        int64_t max_offset) const {
  auto by_pos = std::upper_bound(
      entries_.begin(), entries_.end(), max_position,
      [](uint64_t p, const OffsetIndexEntry& e) { return p < e.position; });
  auto by_off = std::lower_bound(
      entries_.begin(), entries_.end(), max_offset,
      [](const OffsetIndexEntry& e, int64_t o) { return e.offset < o; });
  auto end = std::min(by_pos, by_off);
  if (end == entries_.begin()) return std::nullopt;
  return *(end - 1);
}

void OffsetIndex::TruncateToPosition(uint64_t position) {
  while (!entries_.empty() && entries_.back().position >= position) entries_.pop_back();
  persisted_ = std::min(persisted_, entries_.size());
}

Status OffsetIndex::WriteTo(File& file) {
  return WriteEntries(file, entries_, persisted_, kEntrySize,
                      [this](const OffsetIndexEntry& e, uint8_t* p) {
                        StoreBigEndian(p, static_cast<int32_t>(e.offset - base_offset_));
                        StoreBigEndian(p + 4, e.position);
                      });
}

Status TimeIndex::Load(const File& file) {
  Clear();
  Result<std::vector<uint8_t>> bytes = ReadIndexFile(file, kEntrySize);
  if (!bytes.ok()) return bytes.status();
  const std::string name = file.path().string();
  for (size_t pos = 0; pos < bytes->size(); pos += kEntrySize) {
    int64_t ts = LoadBigEndian<int64_t>(bytes->data() + pos);
    int32_t rel = LoadBigEndian<int32_t>(bytes->data() + pos + 8);
    TimeIndexEntry e{ts, base_offset_ + rel};
    bool increasing = entries_.empty() || (e.timestamp > entries_.back().timestamp &&
                                           e.offset >= entries_.back().offset);
    if (rel < 0 || !increasing) {
      Clear();
      return Status::Corruption(name + ": bad entry " + std::to_string(pos / kEntrySize));
    }
    entries_.push_back(e);
  }
  persisted_ = entries_.size();
  return Status::Ok();
}

void TimeIndex::MaybeAppend(int64_t timestamp, int64_t offset) {
  if (!entries_.empty() && timestamp <= entries_.back().timestamp) return;
  entries_.push_back({timestamp, offset});
}

std::optional<TimeIndexEntry> TimeIndex::LastBelow(int64_t timestamp) const {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), timestamp,
      [](const TimeIndexEntry& e, int64_t ts) { return e.timestamp < ts; });
  if (it == entries_.begin()) return std::nullopt;
  return *(it - 1);
}

void TimeIndex::TruncateToOffset(int64_t offset) {
  while (!entries_.empty() && entries_.back().offset >= offset) entries_.pop_back();
  persisted_ = std::min(persisted_, entries_.size());
}

Status TimeIndex::WriteTo(File& file) {
  return WriteEntries(file, entries_, persisted_, kEntrySize,
                      [this](const TimeIndexEntry& e, uint8_t* p) {
                        StoreBigEndian(p, e.timestamp);
                        StoreBigEndian(p + 8, static_cast<int32_t>(e.offset - base_offset_));
                      });
}

}  // namespace sluice::storage
