// Writer: encodes Kafka wire primitives into a growing buffer.
//
// Two modes. A flat Writer keeps everything in one buffer (Take() returns
// it). A Writer given an OutputChain appends file-backed Records as FileSlice
// pieces: it closes the current buffer piece, appends the slice and starts a
// new buffer, so Fetch data read from a segment reaches the socket through
// sendfile without a copy. Call Finish() to flush the last buffer piece.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/endian.h"
#include "base/output_chain.h"
#include "base/status.h"
#include "protocol/wire/records.h"
#include "protocol/wire/types.h"

namespace sluice::protocol {

class Writer {
 public:
  Writer() = default;
  explicit Writer(OutputChain* chain) : chain_(chain) {}

  void WriteBool(bool v) { WriteFixed<uint8_t>(v ? 1 : 0); }
  void WriteInt8(int8_t v) { WriteFixed(v); }
  void WriteInt16(int16_t v) { WriteFixed(v); }
  void WriteInt32(int32_t v) { WriteFixed(v); }
  void WriteInt64(int64_t v) { WriteFixed(v); }
  void WriteUint16(uint16_t v) { WriteFixed(v); }
  void WriteUint32(uint32_t v) { WriteFixed(v); }
  void WriteFloat64(double v);
  void WriteUuid(const Uuid& v) { WriteRaw(v.bytes.data(), v.bytes.size()); }
  void WriteVarint(int32_t v);   // Zig-zag.
  void WriteVarlong(int64_t v);  // Zig-zag.
  void WriteUnsignedVarint(uint32_t v);
  void WriteRaw(const uint8_t* data, size_t n) { buf_.insert(buf_.end(), data, data + n); }

  // `compact`: flexible-version encoding. A null given for a version where
  // the field is not `nullable` is written as empty (Kafka would refuse it).
  void WriteString(const std::string& v, bool compact);
  void WriteNullableString(const std::optional<std::string>& v, bool compact, bool nullable);
  void WriteBytes(const Bytes& v, bool compact);
  void WriteNullableBytes(const std::optional<Bytes>& v, bool compact, bool nullable);
  void WriteRecords(const Records& v, bool compact, bool nullable);

  // Array count: -1 for null.
  void WriteArrayCount(int64_t count, bool compact);

  template <typename T, typename F>
  void WriteArray(const std::vector<T>& v, bool compact, F&& write_elem) {
    WriteArrayCount(static_cast<int64_t>(v.size()), compact);
    for (const T& e : v) write_elem(e);
  }
  template <typename T, typename F>
  void WriteNullableArray(const std::optional<std::vector<T>>& v, bool compact, bool nullable,
                          F&& write_elem) {
    if (!v) {
      WriteArrayCount(nullable ? -1 : 0, compact);
      return;
    }
    WriteArray(*v, compact, write_elem);
  }
  template <typename T, typename F>
  void WriteNullableStruct(const std::optional<T>& v, bool nullable, F&& write_struct) {
    if (!v && nullable) {
      WriteInt8(-1);
      return;
    }
    WriteInt8(1);
    write_struct(v ? *v : T{});
  }

  // A known tagged field: tag, size, then what `write` appends. Tagged fields
  // never hold records, so `write` never flushes to the chain.
  template <typename F>
  void WriteTaggedField(uint32_t tag, F&& write) {
    std::vector<uint8_t> outer;
    outer.swap(buf_);
    write();
    std::vector<uint8_t> field;
    field.swap(buf_);
    buf_.swap(outer);
    WriteUnsignedVarint(tag);
    WriteUnsignedVarint(static_cast<uint32_t>(field.size()));
    WriteRaw(field.data(), field.size());
  }
  // Writes unknown[from...] while their tag is below `before_tag` (all of
  // them for UINT32_MAX); returns the index of the first one not written.
  size_t WriteUnknownTaggedFields(const std::vector<TaggedField>& unknown, size_t from,
                                  uint32_t before_tag);

  // Bytes written so far, including pieces already handed to the chain.
  size_t size() const { return flushed_ + buf_.size(); }
  // Flat mode: the encoded bytes.
  std::vector<uint8_t> Take() { return std::move(buf_); }
  const std::vector<uint8_t>& buffer() const { return buf_; }
  // Chain mode: hands the current buffer to the chain.
  void Finish();
  // Not OK when a file slice could not be read in flat mode.
  const Status& status() const { return status_; }

 private:
  template <typename T>
  void WriteFixed(T v) {
    const size_t n = buf_.size();
    buf_.resize(n + sizeof(T));
    StoreBigEndian(buf_.data() + n, v);
  }
  void WriteLength(int64_t len, bool compact, bool wide);

  // In chain mode, in-memory records at least this large get their own piece.
  static constexpr size_t kOwnPieceBytes = 4096;

  std::vector<uint8_t> buf_;
  OutputChain* chain_ = nullptr;
  size_t flushed_ = 0;
  Status status_;
};

}  // namespace sluice::protocol
