#include "protocol/wire/cursor.h"

namespace sluice::protocol {

Status Cursor::Nested(Status inner, const char* field, int32_t index) {
  std::string path = field;
  if (index >= 0) path += "[" + std::to_string(index) + "]";
  // A message that starts with ':' has no field of its own (an array element).
  if (inner.message().empty() || inner.message()[0] != ':') path += '.';
  return Status::Corruption(path + inner.message());
}

Status Cursor::ErrorAt(const char* field, const std::string& what, size_t offset) {
  return Status::Corruption(std::string(field == nullptr ? "" : field) + ": " + what +
                            " at offset " + std::to_string(offset));
}

Status Cursor::TruncatedError(const char* field, size_t need, size_t offset,
                              size_t remaining) {
  return ErrorAt(field,
                 "need " + std::to_string(need) + " bytes, " + std::to_string(remaining) +
                     " remaining",
                 offset);
}

Status Cursor::LengthError(const char* field, int64_t len, size_t start, size_t remaining) {
  if (len < -1) return ErrorAt(field, "negative length " + std::to_string(len), start);
  return ErrorAt(field,
                 "length " + std::to_string(len) + " exceeds " + std::to_string(remaining) +
                     " remaining bytes",
                 start);
}

Status Cursor::CountError(const char* field, int64_t count, size_t min_elem_size, size_t start,
                          size_t remaining) {
  if (count < -1) return ErrorAt(field, "negative array count " + std::to_string(count), start);
  if (count == -1) return ErrorAt(field, "null for an array not nullable in this version", start);
  return ErrorAt(field,
                 "count " + std::to_string(count) + " of elements of at least " +
                     std::to_string(min_elem_size) + " bytes exceeds " +
                     std::to_string(remaining) + " remaining bytes",
                 start);
}

Status Cursor::NullError(const char* field, const char* what, size_t offset) {
  return ErrorAt(field, std::string("null for ") + what, offset);
}

Status Cursor::VarintError(const char* field, const uint8_t* begin, const uint8_t* pos,
                           const uint8_t* end) {
  // The bytes again, one by one, to say which way they are malformed.
  for (int shift = 0; shift < 35; shift += 7) {
    if (pos == end) return ErrorAt(field, "truncated varint", static_cast<size_t>(pos - begin));
    const uint8_t b = *pos++;
    if (shift == 28 && (b & 0xf0) != 0) {
      return ErrorAt(field, "varint overflows 32 bits", static_cast<size_t>(pos - begin));
    }
    if ((b & 0x80) == 0) break;
  }
  // Not reached: DecodeUnsignedVarint fails only for the reasons above.
  return ErrorAt(field, "malformed varint", static_cast<size_t>(pos - begin));
}

Status Cursor::UnreadTaggedError(const char* field, uint32_t tag, size_t offset,
                                 size_t remaining) {
  return ErrorAt(field,
                 "tagged field " + std::to_string(tag) + " has " + std::to_string(remaining) +
                     " unread bytes",
                 offset);
}

Cursor::Varint32 Cursor::DecodeUnsignedVarint(const uint8_t* p, const uint8_t* end) {
  if (end - p >= 5) {
    // No bounds check per byte: a record batch's length (2-3 bytes) takes
    // this path in every flexible Produce request.
    uint32_t result = 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      result |= (p[i] & 0x7fu) << (7 * i);
      if (p[i] < 0x80) return {p + i + 1, result};
    }
    if ((p[4] & 0xf0) != 0) return {nullptr, 0};
    return {p + 5, result | static_cast<uint32_t>(p[4]) << 28};
  }
  uint32_t result = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p == end) return {nullptr, 0};
    const uint8_t b = *p++;
    if (shift == 28 && (b & 0xf0) != 0) return {nullptr, 0};
    result |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return {p, result};
  }
  return {nullptr, 0};  // Not reached: the fifth byte ends it or overflows.
}

Status Cursor::ReadVarint(int32_t* v, const char* field) {
  uint32_t u = 0;
  SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&u, field));
  *v = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  return Status::Ok();
}

Status Cursor::ReadVarlong(int64_t* v, const char* field) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ == end_) return ErrorAt(field, "truncated varlong", offset());
    uint8_t b = *pos_++;
    if (shift == 63 && (b & 0xfe) != 0) return ErrorAt(field, "varlong overflows 64 bits", offset());
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = static_cast<int64_t>((result >> 1) ^ (~(result & 1) + 1));
      return Status::Ok();
    }
  }
  return ErrorAt(field, "varlong longer than 10 bytes", offset());
}

}  // namespace sluice::protocol
