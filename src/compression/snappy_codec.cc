// Snappy, in the two shapes Kafka clients write:
//   raw:    one snappy block (librdkafka, and what we write);
//   xerial: the Java client's framing, "\x82SNAPPY\0" + int32 version +
//           int32 compatible-version, then [int32 BE length][snappy block]...
#include <snappy.h>

#include <fmt/format.h>

#include <cstring>

#include "base/endian.h"
#include "compression/codec_internal.h"

namespace sluice::compression::internal {

namespace {

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = sizeof(kXerialMagic) + 4 + 4;

// Appends one raw block, checking its declared size against the room left.
Status AppendRawBlock(std::span<const uint8_t> block, std::vector<uint8_t>* out, size_t start,
                      size_t limit) {
  const char* src = reinterpret_cast<const char*>(block.data());
  size_t n = 0;
  if (!snappy::GetUncompressedLength(src, block.size(), &n)) {
    return Status::Corruption("snappy: bad block length prefix");
  }
  const size_t used = out->size() - start;
  if (n > limit - used) return OutputLimitExceeded(Codec::kSnappy, limit);
  // No snappy element expands more than ~22x (a 3-byte copy of 64 bytes), so
  // a larger claim is a lie; refuse it before allocating what it claims.
  if (n > block.size() * 32 + 32) {
    return Status::Corruption(fmt::format("snappy: block of {} bytes claims {} bytes of output",
                                          block.size(), n));
  }
  out->resize(out->size() + n);
  if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(out->data() + start + used))) {
    out->resize(start + used);
    return Status::Corruption("snappy: corrupt block");
  }
  return Status::Ok();
}

}  // namespace

Status SnappyCompress(std::span<const uint8_t> in, std::vector<uint8_t>* out) {
  const size_t start = out->size();
  out->resize(start + snappy::MaxCompressedLength(in.size()));
  size_t written = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                      reinterpret_cast<char*>(out->data() + start), &written);
  out->resize(start + written);
  return Status::Ok();
}

Status SnappyDecompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit) {
  const size_t start = out->size();
  if (in.size() < kXerialHeaderSize || std::memcmp(in.data(), kXerialMagic, sizeof(kXerialMagic)) != 0) {
    return AppendRawBlock(in, out, start, limit);
  }
  // The version ints are not checked: every xerial release writes 1/1 and
  // readers of all versions accept the same chunk format.
  size_t pos = kXerialHeaderSize;
  while (pos < in.size()) {
    if (in.size() - pos < 4) {
      out->resize(start);
      return Status::Corruption("snappy: xerial chunk length truncated");
    }
    const int32_t len = LoadBigEndian<int32_t>(in.data() + pos);
    pos += 4;
    if (len < 0 || static_cast<size_t>(len) > in.size() - pos) {
      out->resize(start);
      return Status::Corruption(fmt::format("snappy: xerial chunk length {} exceeds the {} bytes left",
                                            len, in.size() - pos));
    }
    Status s = AppendRawBlock(in.subspan(pos, static_cast<size_t>(len)), out, start, limit);
    if (!s.ok()) {
      out->resize(start);
      return s;
    }
    pos += static_cast<size_t>(len);
  }
  return Status::Ok();
}

}  // namespace sluice::compression::internal
