// Reader: bounds-checked decoding of Kafka wire primitives from a byte span.
//
// Every length and count is checked against the bytes remaining before
// anything is allocated, so a 4-byte frame claiming a 2 GiB string costs
// nothing. Errors name the field being read ("ProduceRequest.topic_data[0].
// partition_data[2].records") and the byte offset; the generated decoders
// keep that path up to date with SetField/Enter/Leave, which are pointer and
// integer stores so the success path stays cheap.
#pragma once

#include <cstddef>
#include <cstdint>
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
  Status Enter(int32_t index);  // Into element `index` of the current field.
  Status EnterStruct() { return Enter(-1); }
  void Leave() { field_ = frames_[--depth_].name; }

  // A Corruption status naming the current field and offset.
  Status Error(const std::string& what) const { return ErrorAt(what, offset()); }
  Status ErrorAt(const std::string& what, size_t offset) const;
  std::string Path() const;

  Status ReadBool(bool* v);
  Status ReadInt8(int8_t* v) { return ReadFixed(v); }
  Status ReadInt16(int16_t* v) { return ReadFixed(v); }
  Status ReadInt32(int32_t* v) { return ReadFixed(v); }
  Status ReadInt64(int64_t* v) { return ReadFixed(v); }
  Status ReadUint16(uint16_t* v) { return ReadFixed(v); }
  Status ReadUint32(uint32_t* v) { return ReadFixed(v); }
  Status ReadFloat64(double* v);
  Status ReadUuid(Uuid* v);
  Status ReadVarint(int32_t* v);   // Zig-zag.
  Status ReadVarlong(int64_t* v);  // Zig-zag.
  Status ReadUnsignedVarint(uint32_t* v) {
    if (pos_ != end_ && *pos_ < 0x80) {  // Lengths and counts are mostly one byte.
      *v = *pos_++;
      return Status::Ok();
    }
    return ReadUnsignedVarintSlow(v);
  }

  // `compact`: KIP-482 unsigned-varint length + 1 (flexible versions), else
  // int16 (strings) or int32 (bytes) length. `nullable`: whether this version
  // allows null; a null where it does not is an error.
  Status ReadString(std::string* v, bool compact);
  Status ReadNullableString(std::optional<std::string>* v, bool compact, bool nullable);
  Status ReadBytes(Bytes* v, bool compact);
  Status ReadNullableBytes(std::optional<Bytes>* v, bool compact, bool nullable);
  // A view into the input: never copied.
  Status ReadRecords(Records* v, bool compact, bool nullable);
  Status ReadRaw(size_t n, std::span<const uint8_t>* v);

  // Reads an array count (-1 = null) and checks that `count * min_elem_size`
  // bytes remain.
  Status ReadArrayCount(bool compact, bool nullable, size_t min_elem_size, int32_t* count);

  template <typename T, typename F>
  Status ReadArray(std::vector<T>* v, bool compact, size_t min_elem_size, F&& read_elem) {
    int32_t n = 0;
    SLUICE_RETURN_IF_ERROR(ReadArrayCount(compact, false, min_elem_size, &n));
    return ReadElements(v, n, read_elem);
  }
  template <typename T, typename F>
  Status ReadNullableArray(std::optional<std::vector<T>>* v, bool compact, bool nullable,
                           size_t min_elem_size, F&& read_elem) {
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
      if (!nullable) return Error("null for a non-nullable struct");
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
  Status ReadTaggedFields(std::vector<TaggedField>* unknown, F&& known) {
    uint32_t count = 0;
    SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&count));
    if (count > remaining() / 2) return Error(CountError(count, 2));
    const char* field = field_;
    for (uint32_t i = 0; i < count; ++i) {
      field_ = field;
      uint32_t tag = 0, size = 0;
      SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&tag));
      SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&size));
      if (size > remaining()) return Error(LengthError(size));
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

 private:
  struct Frame {
    const char* name;
    int32_t index = 0;
  };

  template <typename T>
  Status ReadFixed(T* v) {
    if (remaining() < sizeof(T)) return Error(TruncatedError(sizeof(T)));
    *v = LoadBigEndian<T>(pos_);
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status ReadUnsignedVarintSlow(uint32_t* v);
  // Reads a string/bytes length; -1 means null.
  Status ReadLength(bool compact, bool wide, int32_t* len);

  template <typename T, typename F>
  Status ReadElements(std::vector<T>* v, int32_t n, F& read_elem) {
    v->resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
      SLUICE_RETURN_IF_ERROR(Enter(i));
      SLUICE_RETURN_IF_ERROR(read_elem(&(*v)[static_cast<size_t>(i)]));
      Leave();
    }
    return Status::Ok();
  }

  std::string TruncatedError(size_t need) const;
  std::string LengthError(uint64_t len) const;
  std::string CountError(uint64_t count, size_t min_elem_size) const;

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
  if (depth_ == kMaxDepth) return Error("nesting deeper than " + std::to_string(kMaxDepth));
  frames_[depth_++] = Frame{field_, index};
  field_ = nullptr;
  return Status::Ok();
}

inline Status Reader::ReadLength(bool compact, bool wide, int32_t* len) {
  const size_t start = offset();
  int64_t n = 0;
  if (compact) {
    uint32_t u = 0;
    SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&u));
    n = static_cast<int64_t>(u) - 1;
  } else if (wide) {
    int32_t i = 0;
    SLUICE_RETURN_IF_ERROR(ReadInt32(&i));
    n = i;
  } else {
    int16_t s = 0;
    SLUICE_RETURN_IF_ERROR(ReadInt16(&s));
    n = s;
  }
  if (n < -1) return ErrorAt("negative length " + std::to_string(n), start);
  if (n > static_cast<int64_t>(remaining())) return ErrorAt(LengthError(n), start);
  *len = static_cast<int32_t>(n);
  return Status::Ok();
}

inline Status Reader::ReadString(std::string* v, bool compact) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, false, &n));
  if (n < 0) return Error("null for a non-nullable string");
  v->assign(reinterpret_cast<const char*>(pos_), static_cast<size_t>(n));
  pos_ += n;
  return Status::Ok();
}

inline Status Reader::ReadNullableString(std::optional<std::string>* v, bool compact,
                                        bool nullable) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, false, &n));
  if (n < 0) {
    if (!nullable) return Error("null for a string not nullable in this version");
    v->reset();
    return Status::Ok();
  }
  if (v->has_value()) {
    (*v)->assign(reinterpret_cast<const char*>(pos_), static_cast<size_t>(n));
  } else {
    v->emplace(reinterpret_cast<const char*>(pos_), static_cast<size_t>(n));
  }
  pos_ += n;
  return Status::Ok();
}

inline Status Reader::ReadRecords(Records* v, bool compact, bool nullable) {
  int32_t n = 0;
  SLUICE_RETURN_IF_ERROR(ReadLength(compact, true, &n));
  if (n < 0) {
    if (!nullable) return Error("null for records not nullable in this version");
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
  int64_t n = 0;
  if (compact) {
    uint32_t u = 0;
    SLUICE_RETURN_IF_ERROR(ReadUnsignedVarint(&u));
    n = static_cast<int64_t>(u) - 1;
  } else {
    int32_t i = 0;
    SLUICE_RETURN_IF_ERROR(ReadInt32(&i));
    n = i;
  }
  if (n < -1) return ErrorAt("negative array count " + std::to_string(n), start);
  if (n == -1 && !nullable) return ErrorAt("null for an array not nullable in this version", start);
  if (min_elem_size == 0) min_elem_size = 1;
  if (n > 0 && static_cast<uint64_t>(n) > remaining() / min_elem_size) {
    return ErrorAt(CountError(static_cast<uint64_t>(n), min_elem_size), start);
  }
  *count = static_cast<int32_t>(n);
  return Status::Ok();
}

}  // namespace sluice::protocol
