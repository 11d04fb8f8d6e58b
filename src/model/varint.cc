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

size_t VarintSize(int32_t v) { return UnsignedSize(ZigZagEncode32(v)); }
size_t VarlongSize(int64_t v) { return UnsignedSize(ZigZagEncode64(v)); }

void AppendVarint(std::vector<uint8_t>* out, int32_t v) { AppendUnsigned(out, ZigZagEncode32(v)); }
void AppendVarlong(std::vector<uint8_t>* out, int64_t v) { AppendUnsigned(out, ZigZagEncode64(v)); }

}  // namespace sluice::model
