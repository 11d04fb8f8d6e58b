#include "protocol/wire/writer.h"

#include <bit>

namespace sluice::protocol {

void Writer::WriteFloat64(double v) { WriteFixed(std::bit_cast<uint64_t>(v)); }

void Writer::WriteUnsignedVarint(uint32_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void Writer::WriteVarint(int32_t v) {
  WriteUnsignedVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void Writer::WriteVarlong(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (u >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(u | 0x80));
    u >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(u));
}

void Writer::WriteLength(int64_t len, bool compact, bool wide) {
  if (compact) {
    WriteUnsignedVarint(static_cast<uint32_t>(len + 1));
  } else if (wide) {
    WriteInt32(static_cast<int32_t>(len));
  } else {
    WriteInt16(static_cast<int16_t>(len));
  }
}

void Writer::WriteString(const std::string& v, bool compact) {
  WriteLength(static_cast<int64_t>(v.size()), compact, false);
  WriteRaw(reinterpret_cast<const uint8_t*>(v.data()), v.size());
}

void Writer::WriteNullableString(const std::optional<std::string>& v, bool compact,
                                 bool nullable) {
  if (v) return WriteString(*v, compact);
  WriteLength(nullable ? -1 : 0, compact, false);
}

void Writer::WriteBytes(const Bytes& v, bool compact) {
  WriteLength(static_cast<int64_t>(v.size()), compact, true);
  WriteRaw(v.data(), v.size());
}

void Writer::WriteNullableBytes(const std::optional<Bytes>& v, bool compact, bool nullable) {
  if (v) return WriteBytes(*v, compact);
  WriteLength(nullable ? -1 : 0, compact, true);
}

void Writer::WriteRecords(const Records& v, bool compact, bool nullable) {
  if (v.is_null()) return WriteLength(nullable ? -1 : 0, compact, true);
  WriteLength(static_cast<int64_t>(v.size()), compact, true);
  const FileSlice* f = v.file();
  if (f == nullptr) {
    auto b = v.bytes();
    if (chain_ != nullptr && b.size() >= kOwnPieceBytes) {
      // A piece of its own: one exact-size copy instead of growing (and
      // re-copying) the frame buffer around every large batch.
      Finish();
      flushed_ += b.size();
      chain_->Append(std::vector<uint8_t>(b.begin(), b.end()));
    } else {
      WriteRaw(b.data(), b.size());
    }
  } else if (chain_ != nullptr) {
    Finish();
    flushed_ += f->length;
    chain_->Append(*f);
  } else {
    // Flat mode (tests, tools): read the slice into the buffer.
    const size_t start = buf_.size();
    buf_.resize(start + f->length);
    Status s = ReadFileSlice(*f, std::span<uint8_t>(buf_).subspan(start));
    if (!s.ok() && status_.ok()) status_ = std::move(s);
  }
}

void Writer::WriteArrayCount(int64_t count, bool compact) {
  if (compact) {
    WriteUnsignedVarint(static_cast<uint32_t>(count + 1));
  } else {
    WriteInt32(static_cast<int32_t>(count));
  }
}

size_t Writer::WriteUnknownTaggedFields(const std::vector<TaggedField>& unknown, size_t from,
                                        uint32_t before_tag) {
  while (from < unknown.size() && (before_tag == UINT32_MAX || unknown[from].tag < before_tag)) {
    const TaggedField& t = unknown[from++];
    WriteUnsignedVarint(t.tag);
    WriteUnsignedVarint(static_cast<uint32_t>(t.data.size()));
    WriteRaw(t.data.data(), t.data.size());
  }
  return from;
}

void Writer::Finish() {
  if (chain_ == nullptr || buf_.empty()) return;
  flushed_ += buf_.size();
  chain_->Append(std::move(buf_));
  buf_ = {};
  buf_.reserve(256);  // The framing up to the next records field is small.
}

}  // namespace sluice::protocol
