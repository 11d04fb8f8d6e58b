// Cursor: bounds-checked decoding of Kafka wire primitives, as the generated
// decoders do it.
//
// Three pointers and nothing else, so that a generated decoder keeps its
// cursor in a local for a whole message and the compiler holds the position in
// a register: no store and reload of it per field. Every length and count is
// checked against the bytes remaining before anything is allocated, so a
// 4-byte frame claiming a 2 GiB string costs nothing.
//
// Errors name the field path and byte offset ("ProduceRequest.topic_data[0].
// partition_data[2].records: length ... at offset 77"), yet the success path
// records nothing of where it is: each read is handed its field's name, a
// constant only its cold error path uses, and the path is put together on the
// way out, each enclosing array element and struct adding its part (Nested).
// Messages are built in cold, out-of-line functions; no out-of-line function
// is ever given a cursor's address (which would keep it in memory).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/endian.h"
#include "base/inline.h"
#include "base/status.h"
#include "protocol/wire/records.h"
#include "protocol/wire/types.h"

namespace sluice::protocol {

class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> data)
      : begin_(data.data()), pos_(data.data()), end_(data.data() + data.size()) {}

  size_t offset() const { return static_cast<size_t>(pos_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  // The unread bytes (e.g. the body after a header).
  std::span<const uint8_t> rest() const { return {pos_, remaining()}; }

  // The error `inner` of a read inside `field`: its path gets "field." (or
  // "field[index]." for an array element, index >= 0) in front.
  [[gnu::cold, gnu::noinline]] static Status Nested(Status inner, const char* field,
                                                    int32_t index);
  // A Corruption status "<field>: <what> at offset <offset>".
  [[gnu::cold, gnu::noinline]] static Status ErrorAt(const char* field, const std::string& what,
                                                     size_t offset);

  // `field`, in every read: the name its errors carry; nullptr for an array
  // element (its index names it).
  SLUICE_ALWAYS_INLINE Status ReadBool(bool* v, const char* field) {
    int8_t b = 0;
    SLUICE_RETURN_IF_ERROR(ReadFixed(&b, field));
    *v = b != 0;
    return Status::Ok();
  }
  SLUICE_ALWAYS_INLINE Status ReadInt8(int8_t* v, const char* field) {
    return ReadFixed(v, field);
  }
  SLUICE_ALWAYS_INLINE Status ReadInt16(int16_t* v, const char* field) {
    return ReadFixed(v, field);
  }
  SLUICE_ALWAYS_INLINE Status ReadInt32(int32_t* v, const char* field) {
    return ReadFixed(v, field);
  }
  SLUICE_ALWAYS_INLINE Status ReadInt64(int64_t* v, const char* field) {
    return ReadFixed(v, field);
  }
  SLUICE_ALWAYS_INLINE Status ReadUint16(uint16_t* v, const char* field) {
    return ReadFixed(v, field);
  }
  SLUICE_ALWAYS_INLINE Status ReadUint32(uint32_t* v, const char* field) {
    return ReadFixed(v, field);
  }
  SLUICE_ALWAYS_INLINE Status ReadFloat64(double* v, const char* field) {
    uint64_t bits = 0;
    SLUICE_RETURN_IF_ERROR(ReadFixed(&bits, field));
    *v = std::bit_cast<double>(bits);
    return Status::Ok();
  }
  SLUICE_ALWAYS_INLINE Status ReadUuid(Uuid* v, const char* field) {
    if (remaining() < 16) [[unlikely]] return TruncatedError(field, 16, offset(), remaining());
    std::memcpy(v->bytes.data(), pos_, 16);
    pos_ += 16;
    return Status::Ok();
  }
  SLUICE_ALWAYS_INLINE Status ReadUnsignedVarint(uint32_t* v, const char* field) {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] {  // Lengths and counts are mostly one byte.
      *v = *pos_++;
      return Status::Ok();
    }
    return ReadUnsignedVarintSlow(v, field);
  }
  // The next fixed-size integer, where the caller has checked that enough
  // bytes remain (one check for a run of such fields).
  template <typename T>
  SLUICE_ALWAYS_INLINE T TakeUnchecked() {
    const T v = LoadBigEndian<T>(pos_);
    pos_ += sizeof(T);
    return v;
  }
  // Out of line: no message has varint fields (record batches do, and have
  // their own reader in model/).
  Status ReadVarint(int32_t* v, const char* field);   // Zig-zag.
  Status ReadVarlong(int64_t* v, const char* field);  // Zig-zag.

  // `compact`: KIP-482 unsigned-varint length + 1 (flexible versions), else
  // int16 (strings) or int32 (bytes) length. `nullable`: whether this version
  // allows null; a null where it does not is an error.
  SLUICE_ALWAYS_INLINE Status ReadString(std::string* v, bool compact, const char* field);
  SLUICE_ALWAYS_INLINE Status ReadNullableString(std::optional<std::string>* v, bool compact,
                                                   bool nullable, const char* field);
  SLUICE_ALWAYS_INLINE Status ReadBytes(Bytes* v, bool compact, const char* field);
  SLUICE_ALWAYS_INLINE Status ReadNullableBytes(std::optional<Bytes>* v, bool compact,
                                                  bool nullable, const char* field);
  // A view into the input: never copied.
  SLUICE_ALWAYS_INLINE Status ReadRecords(Records* v, bool compact, bool nullable,
                                            const char* field);

  // Reads an array count (-1 = null) and checks that `count * min_elem_size`
  // bytes remain.
  SLUICE_ALWAYS_INLINE Status ReadArrayCount(bool compact, bool nullable, size_t min_elem_size,
                                               int32_t* count, const char* field);

  template <typename T, typename F>
  SLUICE_ALWAYS_INLINE Status ReadArray(std::vector<T>* v, bool compact, size_t min_elem_size,
                                          const char* field, F&& read_elem) {
    int32_t n = 0;
    SLUICE_RETURN_IF_ERROR(ReadArrayCount(compact, false, min_elem_size, &n, field));
    return ReadElements(v, n, field, read_elem);
  }
  template <typename T, typename F>
  SLUICE_ALWAYS_INLINE Status ReadNullableArray(std::optional<std::vector<T>>* v, bool compact,
                                                  bool nullable, size_t min_elem_size,
                                                  const char* field, F&& read_elem) {
    int32_t n = 0;
    SLUICE_RETURN_IF_ERROR(ReadArrayCount(compact, nullable, min_elem_size, &n, field));
    if (n < 0) {
      v->reset();
      return Status::Ok();
    }
    if (!v->has_value()) v->emplace();  // Else reuse its capacity.
    return ReadElements(&**v, n, field, read_elem);
  }
  // A struct field: `read_struct()` decodes it.
  template <typename F>
  SLUICE_ALWAYS_INLINE static Status ReadStruct(const char* field, F&& read_struct) {
    Status s = read_struct();
    if (!s.ok()) [[unlikely]] return Nested(std::move(s), field, -1);
    return s;
  }
  // A nullable struct: int8 -1 (null) or 1, then the struct.
  template <typename T, typename F>
  SLUICE_ALWAYS_INLINE Status ReadNullableStruct(std::optional<T>* v, bool nullable,
                                                   const char* field, F&& read_struct) {
    int8_t marker = 0;
    SLUICE_RETURN_IF_ERROR(ReadInt8(&marker, field));
    if (marker < 0) {
      if (!nullable) [[unlikely]] return NullError(field, "a non-nullable struct", offset());
      v->reset();
      return Status::Ok();
    }
    if (!v->has_value()) v->emplace();
    return ReadStruct(field, [&] { return read_struct(&**v); });
  }

  // The tagged-field section of a flexible struct. For each field,
  // `known(tag, cursor, &name)` decodes a tag the struct declares from
  // `cursor` (which ends where the field does) and sets `name` to the field's
  // name; any other tag is appended to `unknown` verbatim. Each known field
  // must use its exact size.
  template <typename F>
  SLUICE_ALWAYS_INLINE Status ReadTaggedFields(std::vector<TaggedField>* unknown, F&& known) {
    if (pos_ != end_ && *pos_ == 0) [[likely]] {  // Almost every section is empty.
      ++pos_;
      return Status::Ok();
    }
    const uint8_t* next = pos_;
    Status s = ReadTaggedFieldsSlow(begin_, &next, end_, unknown, known);
    pos_ = next;
    return s;
  }

 private:
  static constexpr const char* kTaggedFields = "_tagged_fields";

  Cursor(const uint8_t* begin, const uint8_t* pos, const uint8_t* end)
      : begin_(begin), pos_(pos), end_(end) {}

  // Reads from *pos to `end`, leaving *pos after the section.
  template <typename F>
  [[gnu::noinline]] static Status ReadTaggedFieldsSlow(const uint8_t* begin, const uint8_t** pos,
                                                       const uint8_t* end,
                                                       std::vector<TaggedField>* unknown,
                                                       F& known) {
    Cursor c(begin, *pos, end);
    uint32_t count = 0;
    SLUICE_RETURN_IF_ERROR(c.ReadUnsignedVarint(&count, kTaggedFields));
    if (uint64_t{count} * 2 > c.remaining()) {
      return CountError(kTaggedFields, count, 2, c.offset(), c.remaining());
    }
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t tag = 0, size = 0;
      SLUICE_RETURN_IF_ERROR(c.ReadUnsignedVarint(&tag, kTaggedFields));
      SLUICE_RETURN_IF_ERROR(c.ReadUnsignedVarint(&size, kTaggedFields));
      if (size > c.remaining()) return LengthError(kTaggedFields, size, c.offset(), c.remaining());
      Cursor field(c.begin_, c.pos_, c.pos_ + size);
      const char* name = nullptr;
      SLUICE_RETURN_IF_ERROR(known(tag, field, &name));
      if (name == nullptr) {
        TaggedField& t = unknown->emplace_back();
        t.tag = tag;
        t.data.assign(c.pos_, c.pos_ + size);
      } else if (field.pos_ != field.end_) {
        return UnreadTaggedError(name, tag, field.offset(), field.remaining());
      }
      c.pos_ += size;
    }
    *pos = c.pos_;
    return Status::Ok();
  }

  template <typename T>
  SLUICE_ALWAYS_INLINE Status ReadFixed(T* v, const char* field) {
    if (remaining() < sizeof(T)) [[unlikely]] return TruncatedError(field, sizeof(T), offset(), remaining());
    *v = LoadBigEndian<T>(pos_);
    pos_ += sizeof(T);
    return Status::Ok();
  }

  // Decodes the unsigned varint at p (of up to 5 bytes) out of line; `next`
  // is nullptr when it is malformed or runs past `end`.
  struct Varint32 {
    const uint8_t* next;
    uint32_t value;
  };
  static Varint32 DecodeUnsignedVarint(const uint8_t* p, const uint8_t* end);
  SLUICE_ALWAYS_INLINE Status ReadUnsignedVarintSlow(uint32_t* v, const char* field) {
    const Varint32 r = DecodeUnsignedVarint(pos_, end_);
    if (r.next == nullptr) [[unlikely]] return VarintError(field, begin_, pos_, end_);
    pos_ = r.next;
    *v = r.value;
    return Status::Ok();
  }
  // An unsigned varint that is usually 2-3 bytes (the compact length of a
  // record batch of 128 B to 2 MiB): decoded inline, not by the slow path.
  SLUICE_ALWAYS_INLINE Status ReadWideLength(uint32_t* v, const char* field) {
    if (remaining() >= 3) [[likely]] {
      const uint32_t b0 = pos_[0], b1 = pos_[1], b2 = pos_[2];
      if (b0 < 0x80) {
        *v = b0;
        pos_ += 1;
        return Status::Ok();
      }
      if (b1 < 0x80) {
        *v = (b0 & 0x7f) | b1 << 7;
        pos_ += 2;
        return Status::Ok();
      }
      if (b2 < 0x80) {
        *v = (b0 & 0x7f) | (b1 & 0x7f) << 7 | b2 << 14;
        pos_ += 3;
        return Status::Ok();
      }
    }
    return ReadUnsignedVarintSlow(v, field);
  }
  // Copies the next n bytes (already bounds-checked) into *s, keeping its
  // capacity. A reused request mostly sees the same client id and topic
  // names again: then only the bytes are copied. (assign() takes the general
  // _M_replace path, which allows for the source aliasing the string.)
  SLUICE_ALWAYS_INLINE void AssignString(std::string* s, size_t n) {
    const char* p = reinterpret_cast<const char*>(pos_);
    pos_ += n;
    if (s->size() == n) {
      CopyShort(s->data(), p, n);
    } else {
      s->clear();
      s->append(p, n);
    }
  }
  // memcpy for the few bytes of a name or id, without a call into libc:
  // two overlapping loads and stores cover 4 to 16 bytes.
  SLUICE_ALWAYS_INLINE static void CopyShort(char* dst, const char* src, size_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t head, tail;
      std::memcpy(&head, src, 8);
      std::memcpy(&tail, src + n - 8, 8);
      std::memcpy(dst, &head, 8);
      std::memcpy(dst + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
      uint32_t head, tail;
      std::memcpy(&head, src, 4);
      std::memcpy(&tail, src + n - 4, 4);
      std::memcpy(dst, &head, 4);
      std::memcpy(dst + n - 4, &tail, 4);
    } else {
      std::memcpy(dst, src, n);
    }
  }
  // Reads a string/bytes length; -1 means null.
  SLUICE_ALWAYS_INLINE Status ReadLength(bool compact, bool wide, int32_t* len,
                                           const char* field);

  template <typename T, typename F>
  SLUICE_ALWAYS_INLINE static Status ReadElements(std::vector<T>* v, int32_t n,
                                                    const char* field, F& read_elem) {
    // Compared in bytes: size() divides by the element size.
    const uintptr_t bytes = reinterpret_cast<uintptr_t>(std::to_address(v->end())) -
                            reinterpret_cast<uintptr_t>(v->data());
    if (bytes != static_cast<size_t>(n) * sizeof(T)) v->resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
      Status s = read_elem(&(*v)[static_cast<size_t>(i)]);
      if (!s.ok()) [[unlikely]] return Nested(std::move(s), field, i);
    }
    return Status::Ok();
  }

  // The error paths: cold and out of line (cursor.cc). They take plain
  // numbers, not the cursor: a cursor passed by value is an aggregate GCC
  // keeps assembling on the hot path.
  [[gnu::cold, gnu::noinline]] static Status TruncatedError(const char* field, size_t need,
                                                            size_t offset, size_t remaining);
  // A length that is negative (below -1) or longer than what remains.
  [[gnu::cold, gnu::noinline]] static Status LengthError(const char* field, int64_t len,
                                                         size_t start, size_t remaining);
  // A count that is negative (below -1), null where not allowed, or too large.
  [[gnu::cold, gnu::noinline]] static Status CountError(const char* field, int64_t count,
                                                        size_t min_elem_size, size_t start,
                                                        size_t remaining);
  // "null for <what>".
  [[gnu::cold, gnu::noinline]] static Status NullError(const char* field, const char* what,
                                                       size_t offset);
  // Why the varint at `pos` does not decode.
  [[gnu::cold, gnu::noinline]] static Status VarintError(const char* field, const uint8_t* begin,
                                                         const uint8_t* pos, const uint8_t* end);
  [[gnu::cold, gnu::noinline]] static Status UnreadTaggedError(const char* field, uint32_t tag,
                                                               size_t offset, size_t remaining);

  const uint8_t* begin_;
  const uint8_t* pos_;
  const uint8_t* end_;
};

// Inline: these run for every field of every request.

// ReadLength and ReadArrayCount keep the new position in a local until the
// end, so that branches merge on one value.

inline Status Cursor::ReadLength(bool compact, bool wide, int32_t* len, const char* field) {
  const size_t start = offset();
  const uint8_t* p = pos_;
  int64_t n = 0;
  if (compact) {
    uint32_t u = 0;
    SLUICE_RETURN_IF_ERROR(wide ? ReadWideLength(&u, field) : ReadUnsignedVarint(&u, field));
    n = static_cast<int64_t>(u) - 1;
    p = pos_;
  } else if (wide) {
    if (end_ - p < 4) [[unlikely]] return TruncatedError(field, 4, offset(), remaining());
    n = LoadBigEndian<int32_t>(p);
    p += 4;
  } else {
    if (end_ - p < 2) [[unlikely]] return TruncatedError(field, 2, offset(), remaining());
    n = LoadBigEndian<int16_t>(p);
    p += 2;
  }
  pos_ = p;
  if (n < -1 || n > end_ - p) [[unlikely]] return LengthError(field, n, start, remaining());
  *len = static_cast<int32_t>(n);
  return Status::Ok();
}

inline Status Cursor::ReadString(std::string* v, bool compact, const char* field) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, false, &n, field));
  if (n < 0) [[unlikely]] return NullError(field, "a non-nullable string", offset());
  AssignString(v, static_cast<size_t>(n));
  return Status::Ok();
}

inline Status Cursor::ReadNullableString(std::optional<std::string>* v, bool compact,
                                         bool nullable, const char* field) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, false, &n, field));
  if (n < 0) {
    if (!nullable) [[unlikely]] {
      return NullError(field, "a string not nullable in this version", offset());
    }
    v->reset();
    return Status::Ok();
  }
  if (v->has_value()) {
    AssignString(&**v, static_cast<size_t>(n));
  } else {
    v->emplace(reinterpret_cast<const char*>(pos_), static_cast<size_t>(n));
    pos_ += n;
  }
  return Status::Ok();
}

inline Status Cursor::ReadBytes(Bytes* v, bool compact, const char* field) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n, field));
  if (n < 0) [[unlikely]] return NullError(field, "non-nullable bytes", offset());
  v->assign(pos_, pos_ + n);
  pos_ += n;
  return Status::Ok();
}

inline Status Cursor::ReadNullableBytes(std::optional<Bytes>* v, bool compact, bool nullable,
                                        const char* field) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n, field));
  if (n < 0) {
    if (!nullable) [[unlikely]] return NullError(field, "bytes not nullable in this version", offset());
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

inline Status Cursor::ReadRecords(Records* v, bool compact, bool nullable, const char* field) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n, field));
  if (n < 0) {
    if (!nullable) [[unlikely]] return NullError(field, "records not nullable in this version", offset());
    *v = Records::Null();
    return Status::Ok();
  }
  v->SetView({pos_, static_cast<size_t>(n)});
  pos_ += n;
  return Status::Ok();
}

inline Status Cursor::ReadArrayCount(bool compact, bool nullable, size_t min_elem_size,
                                     int32_t* count, const char* field) {
  const size_t start = offset();
  const uint8_t* p = pos_;
  int64_t n = 0;
  if (compact) {
    if (p != end_ && *p < 0x80) [[likely]] {
      n = int64_t{*p} - 1;
      ++p;
    } else {
      uint32_t u = 0;
      SLUICE_RETURN_IF_ERROR(ReadUnsignedVarintSlow(&u, field));
      n = static_cast<int64_t>(u) - 1;
      p = pos_;
    }
  } else {
    if (end_ - p < 4) [[unlikely]] return TruncatedError(field, 4, offset(), remaining());
    n = LoadBigEndian<int32_t>(p);
    p += 4;
  }
  pos_ = p;
  if (min_elem_size == 0) min_elem_size = 1;
  // n * min_elem_size cannot overflow (n < 2^32, elements are small); a
  // multiply rather than remaining() / min_elem_size, which costs a division.
  const size_t rest = static_cast<size_t>(end_ - p);
  if (n < 0 ? n < -1 || !nullable : static_cast<uint64_t>(n) * min_elem_size > rest)
      [[unlikely]] {
    return CountError(field, n, min_elem_size, start, remaining());
  }
  *count = static_cast<int32_t>(n);
  return Status::Ok();
}

}  // namespace sluice::protocol
