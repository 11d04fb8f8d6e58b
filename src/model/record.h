// One record of a v2 batch, as views into bytes someone else owns (the batch
// itself, or the decompressed buffer of a RecordIterator).
//
// On the wire (all varints zig-zag):
//   length varint | attributes int8 | timestamp_delta varlong |
//   offset_delta varint | key_length varint | key | value_length varint |
//   value | header_count varint | headers...
//   header: key_length varint | key (UTF-8) | value_length varint | value
// A length of -1 means null (not allowed for header keys).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sluice::model {

using Bytes = std::span<const uint8_t>;

struct Header {
  std::string_view key;
  std::optional<Bytes> value;  // nullopt: a null value (length -1).
};

struct Record {
  int64_t offset = 0;        // base_offset + offset_delta.
  int32_t offset_delta = 0;
  int64_t timestamp = -1;    // Absolute; max_timestamp for LogAppendTime batches.
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<Header> headers;
};

// Smallest possible encoded record: length + 6 one-byte fields (attributes,
// timestamp delta, offset delta, key -1, value -1, zero headers).
inline constexpr size_t kMinRecordSize = 7;

inline Bytes AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsStringView(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace sluice::model
