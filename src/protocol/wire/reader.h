// Reader: bounds-checked decoding of Kafka wire primitives from a byte span.
//
// Every length and count is checked against the bytes remaining before
// anything is allocated, so a 4-byte frame claiming a 2 GiB string costs
// nothing. Errors name the field being read ("ProduceRequest.topic_data[0].
// partition_data[2].records") and the byte offset; the generated decoders
// keep that path up to date with SetField/Enter/Leave, which are pointer and
// integer stores so the success path stays cheap. Every message is built in a
// cold, out-of-line function, so the inline readers are a bounds check, a load
// and a null Status: small enough to inline into the generated decoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/endian.h"
#include "base/status.h"
#include "protocol/wire/records.h"
#include "protocol/wire/types.h"

namespace sluice::protocol {

class Reader {
 public:
  // Deeper nesting than any Kafka message has; a guard, not a limit users hit.
  static constexpr int kMaxDepth = 16;

  explicit Reader(std::span<const uint8_t> data)
      : begin_(data.data()), pos_(data.data()), end_(data.data() + data.size()) {}

  size_t offset() const { return static_cast<size_t>(pos_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  // The unread bytes (e.g. the body after a header).
  std::span<const uint8_t> rest() const { return {pos_, remaining()}; }

  // Error-path bookkeeping used by generated code.
  void SetRoot(const char* name) { root_ = name; depth_ = 0; field_ = nullptr; }
  void SetField(const char* name) { field_ = name; }
  // Into element `index` of the current field.
  [[gnu::always_inline]] Status Enter(int32_t index);
  [[gnu::always_inline]] Status EnterStruct() { return Enter(-1); }
  void Leave() { field_ = frames_[--depth_].name; }

  // A Corruption status naming the current field and offset.
  [[gnu::cold]] Status Error(const std::string& what) const { return ErrorAt(what, offset()); }
  [[gnu::cold]] Status ErrorAt(const std::string& what, size_t offset) const;
  std::string Path() const;

  Status ReadBool(bool* v);
  [[gnu::always_inline]] Status ReadInt8(int8_t* v) { return ReadFixed(v); }
  [[gnu::always_inline]] Status ReadInt16(int16_t* v) { return ReadFixed(v); }
  [[gnu::always_inline]] Status ReadInt32(int32_t* v) { return ReadFixed(v); }
  [[gnu::always_inline]] Status ReadInt64(int64_t* v) { return ReadFixed(v); }
  [[gnu::always_inline]] Status ReadUint16(uint16_t* v) { return ReadFixed(v); }
  [[gnu::always_inline]] Status ReadUint32(uint32_t* v) { return ReadFixed(v); }
  Status ReadFloat64(double* v);
  Status ReadUuid(Uuid* v);
  Status ReadVarint(int32_t* v);   // Zig-zag.
  Status ReadVarlong(int64_t* v);  // Zig-zag.
  [[gnu::always_inline]] Status ReadUnsignedVarint(uint32_t* v) {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] {  // Lengths and counts are mostly one byte.
      *v = *pos_++;
      return Status::Ok();
    }
    return ReadUnsignedVarintSlow(v);
  }

  // `compact`: KIP-482 unsigned-varint length + 1 (flexible versions), else
  // int16 (strings) or int32 (bytes) length. `nullable`: whether this version
  // allows null; a null where it does not is an error.
  [[gnu::always_inline]] Status ReadString(std::string* v, bool compact);
  [[gnu::always_inline]] Status ReadNullableString(std::optional<std::string>* v, bool compact,
                                                   bool nullable);
  Status ReadBytes(Bytes* v, bool compact);
  Status ReadNullableBytes(std::optional<Bytes>* v, bool compact, bool nullable);
  // A view into the input: never copied.
  [[gnu::always_inline]] Status ReadRecords(Records* v, bool compact, bool nullable);
  Status ReadRaw(size_t n, std::span<const uint8_t>* v);

  // Reads an array count (-1 = null) and checks that `count * min_elem_size`
  // bytes remain.
  [[gnu::always_inline]] Status ReadArrayCount(bool compact, bool nullable, size_t min_elem_size,
                                              int32_t* count);

  template <typename T, typename F>
  [[gnu::always_inline]] Status ReadArray(std::vector<T>* v, bool compact, size_t min_elem_size,
                                         F&& read_elem) {
    int32_t n = 0;
    SLUICE_RETURN_IF_ERROR(ReadArrayCount(compact, false, min_elem_size, &n));
    return ReadElements(v, n, read_elem);
  }
  template <typename T, typename F>
  [[gnu::always_inline]] Status ReadNullableArray(std::optional<std::vector<T>>* v, bool compact,
                                                 bool nullable, size_t min_elem_size,
                                                 F&& read_elem) {
    int32_t n = 0;
    SLUICE_RETURN_IF_ERROR(ReadArrayCount(compact, nullable, min_elem_size, &n));
    if (n < 0) {
      v->reset();
      return Status::Ok();
    }
    if (!v->has_value()) v->emplace();  // Else reuse its capacity.
    return ReadElements(&**v, n, read_elem);
  }
  // A nullable struct: int8 -1 (null) or 1, then the struct.
  template <typename T, typename F>
  Status ReadNullableStruct(std::optional<T>* v, bool nullable, F&& read_struct) {
    int8_t marker = 0;
    SLUICE_RETURN_IF_ERROR(ReadInt8(&marker));
    if (marker < 0) {
      if (!nullable) [[unlikely]] return NullError("a non-nullable struct");
      v->reset();
      return Status::Ok();
    }
    SLUICE_RETURN_IF_ERROR(EnterStruct());
    if (!v->has_value()) v->emplace();
    SLUICE_RETURN_IF_ERROR(read_struct(&**v));
    Leave();
    return Status::Ok();
  }

  // The tagged-field section of a flexible struct. `known(tag, &is_known)`
  // decodes a tag the struct declares (setting is_known); any other tag is
  // appended to `unknown` verbatim. Each known field must use its exact size.
  template <typename F>
  [[gnu::always_inline]] Status ReadTaggedFields(std::vector<TaggedField>* unknown, F&& known) {
    if (pos_ != end_ && *pos_ == 0) [[likely]] {  // Almost every section is empty.
      ++pos_;
      return Status::Ok();
    }
    return ReadTaggedFieldsSlow(unknown, known);
  }

 private:
  // Not initialized: only frames_[0, depth_) are ever read, and a Reader is
  // made per request.
  struct Frame {
    const char* name;
    int32_t index;
  };

  template <typename F>
  [[gnu::noinline]] Status ReadTaggedFieldsSlow(std::vector<TaggedField>* unknown, F& known) {
    uint32_t count = 0;
    SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&count));
    if (uint64_t{count} * 2 > remaining()) return CountError(count, 2, offset());
    const char* field = field_;
    for (uint32_t i = 0; i < count; ++i) {
      field_ = field;
      uint32_t tag = 0, size = 0;
      SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&tag));
      SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&size));
      if (size > remaining()) return LengthError(size, offset());
      const uint8_t* saved_end = end_;
      end_ = pos_ + size;
      bool is_known = false;
      Status s = known(tag, &is_known);
      if (s.ok() && is_known && pos_ != end_) {
        s = Error("tagged field " + std::to_string(tag) + " has " + std::to_string(remaining()) +
                  " unread bytes");
      }
      end_ = saved_end;
      SLUICE_RETURN_IF_ERROR(s);
      if (!is_known) {
        TaggedField& t = unknown->emplace_back();
        t.tag = tag;
        t.data.assign(pos_, pos_ + size);
        pos_ += size;
      }
    }
    field_ = field;
    return Status::Ok();
  }

  template <typename T>
  [[gnu::always_inline]] Status ReadFixed(T* v) {
    if (remaining() < sizeof(T)) [[unlikely]] return TruncatedError(sizeof(T));
    *v = LoadBigEndian<T>(pos_);
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status ReadUnsignedVarintSlow(uint32_t* v);
  // An unsigned varint that is usually 2-3 bytes (the compact length of a
  // record batch of 128 B to 2 MiB): decoded inline, not by the slow path.
  [[gnu::always_inline]] Status ReadWideLength(uint32_t* v) {
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
    return ReadUnsignedVarintSlow(v);
  }
  // Copies the next n bytes (already bounds-checked) into *s, keeping its
  // capacity. A reused request mostly sees the same client id and topic
  // names again: then only the bytes are copied. (assign() takes the general
  // _M_replace path, which allows for the source aliasing the string.)
  [[gnu::always_inline]] void AssignString(std::string* s, size_t n) {
    const char* p = reinterpret_cast<const char*>(pos_);
    pos_ += n;
    if (s->size() == n) {
      std::memcpy(s->data(), p, n);
    } else {
      s->clear();
      s->append(p, n);
    }
  }
  // Reads a string/bytes length; -1 means null.
  [[gnu::always_inline]] Status ReadLength(bool compact, bool wide, int32_t* len);

  template <typename T, typename F>
  [[gnu::always_inline]] Status ReadElements(std::vector<T>* v, int32_t n, F& read_elem) {
    if (v->size() != static_cast<size_t>(n)) v->resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
      SLUICE_RETURN_IF_ERROR(Enter(i));
      SLUICE_RETURN_IF_ERROR(read_elem(&(*v)[static_cast<size_t>(i)]));
      Leave();
    }
    return Status::Ok();
  }

  // The error paths: cold and out of line (reader.cc).
  [[gnu::cold, gnu::noinline]] Status TruncatedError(size_t need) const;
  // A length that is negative (below -1) or longer than what remains.
  [[gnu::cold, gnu::noinline]] Status LengthError(int64_t len, size_t start) const;
  // A count that is negative (below -1), null where not allowed, or too large.
  [[gnu::cold, gnu::noinline]] Status CountError(int64_t count, size_t min_elem_size,
                                                 size_t start) const;
  // "null for <what>".
  [[gnu::cold, gnu::noinline]] Status NullError(const char* what) const;
  [[gnu::cold, gnu::noinline]] Status DepthError() const;

  const uint8_t* begin_;
  const uint8_t* pos_;
  const uint8_t* end_;
  const char* root_ = "";
  const char* field_ = nullptr;
  Frame frames_[kMaxDepth];
  int depth_ = 0;
};

// Inline: these run for every field of every request.

inline Status Reader::Enter(int32_t index) {
  if (depth_ == kMaxDepth) [[unlikely]] return DepthError();
  frames_[depth_++] = Frame{field_, index};
  field_ = nullptr;
  return Status::Ok();
}

// ReadLength and ReadArrayCount keep the new position in a local until the
// end: where their branches merge, GCC would otherwise reload pos_ right after
// storing it (a store-forwarding stall on every length and count).

inline Status Reader::ReadLength(bool compact, bool wide, int32_t* len) {
  const size_t start = offset();
  const uint8_t* p = pos_;
  int64_t n = 0;
  if (compact) {
    uint32_t u = 0;
    SLUICE_RETURN_IF_ERROR(wide ? ReadWideLength(&u) : ReadUnsignedVarint(&u));
    n = static_cast<int64_t>(u) - 1;
    p = pos_;
  } else if (wide) {
    if (end_ - p < 4) [[unlikely]] return TruncatedError(4);
    n = LoadBigEndian<int32_t>(p);
    p += 4;
  } else {
    if (end_ - p < 2) [[unlikely]] return TruncatedError(2);
    n = LoadBigEndian<int16_t>(p);
    p += 2;
  }
  pos_ = p;
  if (n < -1 || n > end_ - p) [[unlikely]] return LengthError(n, start);
  *len = static_cast<int32_t>(n);
  return Status::Ok();
}

inline Status Reader::ReadString(std::string* v, bool compact) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, false, &n));
  if (n < 0) [[unlikely]] return NullError("a non-nullable string");
  AssignString(v, static_cast<size_t>(n));
  return Status::Ok();
}

inline Status Reader::ReadNullableString(std::optional<std::string>* v, bool compact,
                                        bool nullable) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, false, &n));
  if (n < 0) {
    if (!nullable) [[unlikely]] return NullError("a string not nullable in this version");
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

inline Status Reader::ReadRecords(Records* v, bool compact, bool nullable) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n));
  if (n < 0) {
    if (!nullable) [[unlikely]] return NullError("records not nullable in this version");
    *v = Records::Null();
    return Status::Ok();
  }
  v->SetView({pos_, static_cast<size_t>(n)});
  pos_ += n;
  return Status::Ok();
}

inline Status Reader::ReadArrayCount(bool compact, bool nullable, size_t min_elem_size,
                                    int32_t* count) {
  const size_t start = offset();
  const uint8_t* p = pos_;
  int64_t n = 0;
  if (compact) {
    if (p != end_ && *p < 0x80) [[likely]] {
      n = int64_t{*p} - 1;
      ++p;
    } else {
      uint32_t u = 0;
      SLUICE_RETURN_IF_ERROR(ReadUnsignedVarintSlow(&u));
      n = static_cast<int64_t>(u) - 1;
      p = pos_;
    }
  } else {
    if (end_ - p < 4) [[unlikely]] return TruncatedError(4);
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
    return CountError(n, min_elem_size, start);
  }
  *count = static_cast<int32_t>(n);
  return Status::Ok();
}

}  // namespace sluice::protocol
