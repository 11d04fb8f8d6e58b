#include "protocol/wire/reader.h"

#include <bit>
#include <cstring>

namespace sluice::protocol {

std::string Reader::Path() const {
  std::string path = root_;
  for (int i = 0; i < depth_; ++i) {
    if (frames_[i].name != nullptr) {
      if (!path.empty()) path += '.';
      path += frames_[i].name;
    }
    if (frames_[i].index >= 0) path += "[" + std::to_string(frames_[i].index) + "]";
  }
  if (field_ != nullptr) {
    if (!path.empty()) path += '.';
    path += field_;
  }
  return path;
}

Status Reader::ErrorAt(const std::string& what, size_t offset) const {
  return Status::Corruption(Path() + ": " + what + " at offset " + std::to_string(offset));
}

Status Reader::TruncatedError(size_t need) const {
  return Error("need " + std::to_string(need) + " bytes, " + std::to_string(remaining()) +
               " remaining");
}

Status Reader::LengthError(int64_t len, size_t start) const {
  if (len < -1) return ErrorAt("negative length " + std::to_string(len), start);
  return ErrorAt("length " + std::to_string(len) + " exceeds " + std::to_string(remaining()) +
                     " remaining bytes",
                 start);
}

Status Reader::CountError(int64_t count, size_t min_elem_size, size_t start) const {
  if (count < -1) return ErrorAt("negative array count " + std::to_string(count), start);
  if (count == -1) return ErrorAt("null for an array not nullable in this version", start);
  return ErrorAt("count " + std::to_string(count) + " of elements of at least " +
                     std::to_string(min_elem_size) + " bytes exceeds " +
                     std::to_string(remaining()) + " remaining bytes",
                 start);
}

Status Reader::NullError(const char* what) const { return Error(std::string("null for ") + what); }

Status Reader::DepthError() const {
  return Error("nesting deeper than " + std::to_string(kMaxDepth));
}

Status Reader::ReadBool(bool* v) {
  int8_t b = 0;
  SLUICE_RETURN_IF_ERROR(ReadInt8(&b));
  *v = b != 0;
  return Status::Ok();
}

Status Reader::ReadFloat64(double* v) {
  uint64_t bits = 0;
  SLUICE_RETURN_IF_ERROR(ReadFixed(&bits));
  *v = std::bit_cast<double>(bits);
  return Status::Ok();
}

Status Reader::ReadUuid(Uuid* v) {
  if (remaining() < 16) return TruncatedError(16);
  std::memcpy(v->bytes.data(), pos_, 16);
  pos_ += 16;
  return Status::Ok();
}

Status Reader::ReadUnsignedVarintSlow(uint32_t* v) {
  if (remaining() >= 5) {
    // No bounds check per byte: a record batch's length (2-3 bytes) takes
    // this path in every flexible Produce request.
    const uint8_t* p = pos_;
    uint32_t result = 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      result |= (p[i] & 0x7fu) << (7 * i);
      if (p[i] < 0x80) {
        pos_ = p + i + 1;
        *v = result;
        return Status::Ok();
      }
    }
    pos_ = p + 5;
    if ((p[4] & 0xf0) != 0) return Error("varint overflows 32 bits");
    *v = result | static_cast<uint32_t>(p[4]) << 28;
    return Status::Ok();
  }
  uint32_t result = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (pos_ == end_) return Error("truncated varint");
    uint8_t b = *pos_++;
    if (shift == 28 && (b & 0xf0) != 0) return Error("varint overflows 32 bits");
    result |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return Status::Ok();
    }
  }
  return Error("varint longer than 5 bytes");
}

Status Reader::ReadVarint(int32_t* v) {
  uint32_t u = 0;
  SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&u));
  *v = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  return Status::Ok();
}

Status Reader::ReadVarlong(int64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ == end_) return Error("truncated varlong");
    uint8_t b = *pos_++;
    if (shift == 63 && (b & 0xfe) != 0) return Error("varlong overflows 64 bits");
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = static_cast<int64_t>((result >> 1) ^ (~(result & 1) + 1));
      return Status::Ok();
    }
  }
  return Error("varlong longer than 10 bytes");
}

Status Reader::ReadBytes(Bytes* v, bool compact) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n));
  if (n < 0) return NullError("non-nullable bytes");
  v->assign(pos_, pos_ + n);
  pos_ += n;
  return Status::Ok();
}

Status Reader::ReadNullableBytes(std::optional<Bytes>* v, bool compact, bool nullable) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n));
  if (n < 0) {
    if (!nullable) return NullError("bytes not nullable in this version");
    v->reset();
    return Status::Ok();
  }
  if (v->has_value()) {
    (*v)->assign(pos_, pos_ + n);
  } else {
    v->emplace(pos_, pos_ + n);
  }
  pos_ += n;
  return Status::Ok();
}

Status Reader::ReadRaw(size_t n, std::span<const uint8_t>* v) {
  if (n > remaining()) return TruncatedError(n);
  *v = {pos_, n};
  pos_ += n;
  return Status::Ok();
}

}  // namespace sluice::protocol
