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

// Bounds-checked reader over a byte span. Every read either succeeds and
// advances or fails, leaving the reader unusable (ok() false); callers check
// ok() once after a group of reads instead of after each.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : data_(bytes) {}

  // Inline: record decoding is a handful of these per record and spends
  // most of its time here.
  int32_t ReadVarint() {  // Fails on more than 5 bytes or bits beyond 32.
    const uint64_t raw = ReadUnsigned(kMaxVarintBytes);
    if (raw > UINT32_MAX) {  // A 5th byte carrying more than 4 bits.
      Fail();
      return 0;
    }
    return ZigZagDecode32(static_cast<uint32_t>(raw));
  }
  // Fails on more than 10 bytes; the excess bits of a 10th byte are dropped,
  // as Kafka's own reader does.
  int64_t ReadVarlong() { return ZigZagDecode64(ReadUnsigned(kMaxVarlongBytes)); }
  uint8_t ReadByte() {
    if (!ok_ || pos_ >= data_.size()) {
      Fail();
      return 0;
    }
    return data_[pos_++];
  }
  // Returns the next n bytes as a view, or fails if fewer remain.
  std::span<const uint8_t> ReadBytes(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      Fail();
      return {};
    }
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

 private:
  uint64_t ReadUnsigned(size_t max_bytes) {
    if (!ok_) return 0;
    const uint8_t* p = data_.data() + pos_;
    const size_t left = data_.size() - pos_;
    // Most lengths and deltas in a batch fit in one byte.
    if (left > 0 && p[0] < 0x80) {
      ++pos_;
      return p[0];
    }
    uint64_t result = 0;
    const size_t n = left < max_bytes ? left : max_bytes;
    for (size_t i = 0; i < n; ++i) {
      result |= static_cast<uint64_t>(p[i] & 0x7f) << (7 * i);
      if ((p[i] & 0x80) == 0) {
        pos_ += i + 1;
        return result;
      }
    }
    Fail();  // Ran out of bytes, or the continuation bit was still set.
    return 0;
  }
  void Fail() { ok_ = false; }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Number of bytes the encodings take.
size_t VarintSize(int32_t v);
size_t VarlongSize(int64_t v);

void AppendVarint(std::vector<uint8_t>* out, int32_t v);
void AppendVarlong(std::vector<uint8_t>* out, int64_t v);

}  // namespace sluice::model
