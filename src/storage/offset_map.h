// OffsetMap: for each key of the dirty part of a log, the offset of its
// latest record. The cleaner fills it from the dirty segments, then keeps a
// record only if no later record of its key exists (Get(key) <= its offset).
//
// Keys are stored whole rather than hashed (Kafka keeps 16-byte MD5s): a
// hash collision would drop a live record. bytes() approximates the memory
// held, so the cleaner can stop mapping at a segment boundary when it
// reaches log.cleaner.dedupe.buffer.size.
//
// Not thread-safe; one per cleaning pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::storage {

class OffsetMap {
 public:
  // Records `offset` for `key`, keeping the larger of it and any earlier one.
  void Put(std::span<const uint8_t> key, int64_t offset);
  std::optional<int64_t> Get(std::span<const uint8_t> key) const;

  size_t size() const { return map_.size(); }
  size_t bytes() const { return bytes_; }
  void Clear() {
    map_.clear();
    bytes_ = 0;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Per entry: node, bucket pointer, string header, offset, plus the key.
  static constexpr size_t kEntryOverhead = 64;

  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> map_;
  size_t bytes_ = 0;
};

}  // namespace sluice::storage
