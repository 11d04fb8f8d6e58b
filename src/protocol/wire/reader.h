// Reader: the input of a decode. What callers hold and pass to a message's
// Decode; it also serves hand-written decoders (group records, consumer
// protocol metadata) that read field by field.
//
// A generated decoder copies the Reader's Cursor into a local, decodes the
// whole message through it and stores the position back once (see
// cursor.h). A hand-written decoder names where it is with SetRoot/SetField,
// which its errors carry ("OffsetCommitValue.metadata: ... at offset 12").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "protocol/wire/cursor.h"
#include "protocol/wire/types.h"

namespace sluice::protocol {

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : cursor_(data) {}

  size_t offset() const { return cursor_.offset(); }
  size_t remaining() const { return cursor_.remaining(); }
  // The unread bytes (e.g. the body after a header).
  std::span<const uint8_t> rest() const { return cursor_.rest(); }

  // For generated decoders: the position to decode from, and where they got to.
  const Cursor& cursor() const { return cursor_; }
  void set_cursor(const Cursor& c) { cursor_ = c; }

  // Names the record or message being read and its current field, for the
  // errors of the reads below.
  void SetRoot(const char* name) { root_ = name; field_ = nullptr; }
  void SetField(const char* name) { field_ = name; }

  // A Corruption status naming the current field and offset.
  [[gnu::cold]] Status Error(const std::string& what) const;

  Status ReadBool(bool* v) { return InRoot(cursor_.ReadBool(v, field_)); }
  Status ReadInt8(int8_t* v) { return InRoot(cursor_.ReadInt8(v, field_)); }
  Status ReadInt16(int16_t* v) { return InRoot(cursor_.ReadInt16(v, field_)); }
  Status ReadInt32(int32_t* v) { return InRoot(cursor_.ReadInt32(v, field_)); }
  Status ReadInt64(int64_t* v) { return InRoot(cursor_.ReadInt64(v, field_)); }
  Status ReadUint16(uint16_t* v) { return InRoot(cursor_.ReadUint16(v, field_)); }
  Status ReadUint32(uint32_t* v) { return InRoot(cursor_.ReadUint32(v, field_)); }
  Status ReadFloat64(double* v) { return InRoot(cursor_.ReadFloat64(v, field_)); }
  Status ReadUuid(Uuid* v) { return InRoot(cursor_.ReadUuid(v, field_)); }
  Status ReadUnsignedVarint(uint32_t* v) {
    return InRoot(cursor_.ReadUnsignedVarint(v, field_));
  }
  Status ReadVarint(int32_t* v) { return InRoot(cursor_.ReadVarint(v, field_)); }
  Status ReadVarlong(int64_t* v) { return InRoot(cursor_.ReadVarlong(v, field_)); }
  Status ReadString(std::string* v, bool compact) {
    return InRoot(cursor_.ReadString(v, compact, field_));
  }
  Status ReadNullableString(std::optional<std::string>* v, bool compact, bool nullable) {
    return InRoot(cursor_.ReadNullableString(v, compact, nullable, field_));
  }
  Status ReadBytes(Bytes* v, bool compact) {
    return InRoot(cursor_.ReadBytes(v, compact, field_));
  }
  Status ReadNullableBytes(std::optional<Bytes>* v, bool compact, bool nullable) {
    return InRoot(cursor_.ReadNullableBytes(v, compact, nullable, field_));
  }

 private:
  Status InRoot(Status s) const {
    if (!s.ok() && *root_ != '\0') [[unlikely]] return Cursor::Nested(std::move(s), root_, -1);
    return s;
  }

  Cursor cursor_;
  const char* root_ = "";
  const char* field_ = nullptr;
};

}  // namespace sluice::protocol
