#include "model/varint.h"

namespace sluice::model {

namespace {

size_t UnsignedSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void AppendUnsigned(std::vector<uint8_t>* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

}  // namespace

uint64_t ByteReader::ReadUnsigned(size_t max_bytes) {
  if (!ok_) return 0;
  uint64_t result = 0;
  for (size_t i = 0; i < max_bytes; ++i) {
    if (pos_ >= data_.size()) break;
    const uint8_t b = data_[pos_++];
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return result;
  }
  Fail();  // Ran out of bytes, or the continuation bit was still set.
  return 0;
}

int32_t ByteReader::ReadVarint() {
  const uint64_t raw = ReadUnsigned(kMaxVarintBytes);
  if (raw > UINT32_MAX) {  // A 5th byte carrying more than 4 bits.
    Fail();
    return 0;
  }
  return ZigZagDecode32(static_cast<uint32_t>(raw));
}

int64_t ByteReader::ReadVarlong() {
  // 10 bytes carry 70 bits; the shift in ReadUnsigned drops the excess of a
  // 10th byte, as Kafka's own reader does.
  return ZigZagDecode64(ReadUnsigned(kMaxVarlongBytes));
}

uint8_t ByteReader::ReadByte() {
  if (!ok_ || pos_ >= data_.size()) {
    Fail();
    return 0;
  }
  return data_[pos_++];
}

std::span<const uint8_t> ByteReader::ReadBytes(size_t n) {
  if (!ok_ || n > data_.size() - pos_) {
    Fail();
    return {};
  }
  auto s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

size_t VarintSize(int32_t v) { return UnsignedSize(ZigZagEncode32(v)); }
size_t VarlongSize(int64_t v) { return UnsignedSize(ZigZagEncode64(v)); }

void AppendVarint(std::vector<uint8_t>* out, int32_t v) { AppendUnsigned(out, ZigZagEncode32(v)); }
void AppendVarlong(std::vector<uint8_t>* out, int64_t v) { AppendUnsigned(out, ZigZagEncode64(v)); }

}  // namespace sluice::model
