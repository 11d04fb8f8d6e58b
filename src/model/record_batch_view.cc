#include "model/record_batch_view.h"

#include <fmt/format.h>

namespace sluice::model {

namespace {

// Two's-complement wrap instead of signed-overflow UB: hostile batches may
// carry any base and delta.
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Reads a nullable length-prefixed byte string. Returns false on a bad length.
bool ReadNullableBytes(ByteReader* r, std::optional<Bytes>* out) {
  const int32_t len = r->ReadVarint();
  if (!r->ok() || len < -1) return false;
  if (len == -1) {
    out->reset();
    return true;
  }
  *out = r->ReadBytes(static_cast<size_t>(len));
  return r->ok();
}

}  // namespace

Result<RecordBatchView> RecordBatchView::Parse(std::span<const uint8_t> bytes) {
  Result<RecordBatchHeader> header = ParseRecordBatchHeader(bytes);
  if (!header.ok()) return header.status();
  const size_t size = header->size_bytes();
  if (size > bytes.size()) {
    return Status::Corruption(fmt::format("record batch truncated: batch_length says {} bytes, {} present",
                                          size, bytes.size()));
  }
  return RecordBatchView(*header, bytes.first(size));
}

RecordIterator RecordBatchView::Records(const compression::DecompressOptions& options) const {
  return RecordIterator(header_, payload(), options);
}

RecordIterator::RecordIterator(const RecordBatchHeader& header, std::span<const uint8_t> payload,
                               const compression::DecompressOptions& options)
    : header_(header) {
  const uint8_t codec = static_cast<uint8_t>(header.attributes & 0x07);
  if (codec > compression::kMaxCodecId) {
    Fail(Status::Corruption(fmt::format("unknown compression codec {} in batch attributes", codec)));
    return;
  }
  if (header.record_count < 0) {
    Fail(Status::Corruption(fmt::format("negative record count {}", header.record_count)));
    return;
  }
  if (header.compression() == Compression::kNone) {
    records_ = payload;
  } else {
    Status s = compression::DecompressInto(header.compression(), payload, &decompressed_, options);
    if (!s.ok()) {
      Fail(std::move(s));
      return;
    }
    records_ = decompressed_;
  }
  // Checked before anyone sizes anything from record_count.
  if (static_cast<size_t>(header.record_count) > records_.size() / kMinRecordSize) {
    Fail(Status::Corruption(fmt::format("record count {} cannot fit in {} bytes of records",
                                        header.record_count, records_.size())));
  }
}

bool RecordIterator::Fail(Status status) {
  status_ = std::move(status);
  done_ = true;
  return false;
}

bool RecordIterator::Next(Record* record) {
  if (done_) return false;
  if (index_ == header_.record_count) {
    done_ = true;
    if (pos_ != records_.size()) {
      return Fail(Status::Corruption(fmt::format("{} bytes after the last of {} records",
                                                 records_.size() - pos_, header_.record_count)));
    }
    return false;
  }
  if (pos_ == records_.size()) {
    return Fail(Status::Corruption(fmt::format("records end after {} of {} records", index_,
                                               header_.record_count)));
  }
  ByteReader outer(records_.subspan(pos_));
  const int32_t length = outer.ReadVarint();
  if (!outer.ok() || length < 0 || static_cast<size_t>(length) > outer.remaining()) {
    return Fail(Status::Corruption(fmt::format(
        "record {} of {}: bad length {} with {} bytes left", index_, header_.record_count,
        outer.ok() ? length : -1, records_.size() - pos_)));
  }
  ByteReader r(outer.ReadBytes(static_cast<size_t>(length)));
  r.ReadByte();  // Record attributes: unused by every Kafka version so far.
  const int64_t timestamp_delta = r.ReadVarlong();
  const int32_t offset_delta = r.ReadVarint();
  if (!r.ok()) {
    return Fail(Status::Corruption(fmt::format("record {}: truncated fixed fields", index_)));
  }
  if (!ReadNullableBytes(&r, &record->key)) {
    return Fail(Status::Corruption(fmt::format("record {}: bad key length", index_)));
  }
  if (!ReadNullableBytes(&r, &record->value)) {
    return Fail(Status::Corruption(fmt::format("record {}: bad value length", index_)));
  }
  const int32_t header_count = r.ReadVarint();
  // Each header takes at least two bytes (two lengths), so this bounds the
  // vector before it grows.
  if (!r.ok() || header_count < 0 || static_cast<size_t>(header_count) > r.remaining() / 2) {
    return Fail(Status::Corruption(fmt::format("record {}: bad header count {}", index_,
                                               r.ok() ? header_count : -1)));
  }
  record->headers.resize(static_cast<size_t>(header_count));
  for (int32_t h = 0; h < header_count; ++h) {
    Header& header = record->headers[static_cast<size_t>(h)];
    const int32_t key_length = r.ReadVarint();
    if (!r.ok() || key_length < 0) {
      return Fail(Status::Corruption(fmt::format("record {} header {}: bad key length", index_, h)));
    }
    header.key = AsStringView(r.ReadBytes(static_cast<size_t>(key_length)));
    if (!r.ok() || !ReadNullableBytes(&r, &header.value)) {
      return Fail(Status::Corruption(fmt::format("record {} header {}: truncated", index_, h)));
    }
  }
  if (r.remaining() != 0) {
    return Fail(Status::Corruption(fmt::format("record {}: {} bytes beyond its fields within its length {}",
                                               index_, r.remaining(), length)));
  }
  record->offset_delta = offset_delta;
  record->offset = WrappingAdd(header_.base_offset, offset_delta);
  record->timestamp = header_.timestamp_type() == TimestampType::kLogAppendTime
                          ? header_.max_timestamp
                          : WrappingAdd(header_.base_timestamp, timestamp_delta);
  pos_ += outer.position();
  ++index_;
  return true;
}

}  // namespace sluice::model
