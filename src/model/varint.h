// Kafka's variable-length integers: zig-zag encoded, then base-128 with the
// high bit of each byte meaning "more follows" (protobuf's sint32/sint64).
// Records use them for every length and delta.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sluice::model {

inline constexpr size_t kMaxVarintBytes = 5;
inline constexpr size_t kMaxVarlongBytes = 10;

// Bounds-checked reader over a byte span. Every read either succeeds and
// advances or fails, leaving the reader unusable (ok() false); callers check
// ok() once after a group of reads instead of after each.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : data_(bytes) {}

  int32_t ReadVarint();   // Fails on more than 5 bytes or bits beyond 32.
  int64_t ReadVarlong();  // Fails on more than 10 bytes.
  uint8_t ReadByte();
  // Returns the next n bytes as a view, or fails if fewer remain.
  std::span<const uint8_t> ReadBytes(size_t n);

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

 private:
  uint64_t ReadUnsigned(size_t max_bytes);
  void Fail() { ok_ = false; }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

inline uint32_t ZigZagEncode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
inline uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int32_t ZigZagDecode32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
inline int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Number of bytes the encodings take.
size_t VarintSize(int32_t v);
size_t VarlongSize(int64_t v);

void AppendVarint(std::vector<uint8_t>* out, int32_t v);
void AppendVarlong(std::vector<uint8_t>* out, int64_t v);

}  // namespace sluice::model
