#include "model/record_batch_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/endian.h"
#include "model/varint.h"

namespace sluice::model {

namespace {

void AppendNullableBytes(std::vector<uint8_t>* out, const std::optional<Bytes>& bytes) {
  if (!bytes) {
    AppendVarint(out, -1);
    return;
  }
  AppendVarint(out, static_cast<int32_t>(bytes->size()));
  out->insert(out->end(), bytes->begin(), bytes->end());
}

int16_t Attributes(const RecordBatchOptions& o) {
  int v = static_cast<int>(o.compression) & 0x07;
  if (o.timestamp_type == TimestampType::kLogAppendTime) v |= 0x08;
  if (o.transactional) v |= 0x10;
  if (o.control) v |= 0x20;
  return static_cast<int16_t>(v);
}

}  // namespace

void RecordBatchBuilder::Add(int64_t timestamp, std::optional<Bytes> key,
                             std::optional<Bytes> value, std::span<const Header> headers) {
  if (record_count_ == 0) {
    base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
  }
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  scratch_.clear();
  scratch_.push_back(0);  // Record attributes.
  // Wrapping subtraction: the reader adds it back the same way.
  AppendVarlong(&scratch_, static_cast<int64_t>(static_cast<uint64_t>(timestamp) -
                                                static_cast<uint64_t>(base_timestamp_)));
  AppendVarint(&scratch_, record_count_);
  AppendNullableBytes(&scratch_, key);
  AppendNullableBytes(&scratch_, value);
  AppendVarint(&scratch_, static_cast<int32_t>(headers.size()));
  for (const Header& h : headers) {
    AppendNullableBytes(&scratch_, AsBytes(h.key));
    AppendNullableBytes(&scratch_, h.value);
  }
  AppendVarint(&records_, static_cast<int32_t>(scratch_.size()));
  records_.insert(records_.end(), scratch_.begin(), scratch_.end());
  ++record_count_;
}

Result<std::vector<uint8_t>> RecordBatchBuilder::Build() const {
  if (record_count_ == 0) return Status::InvalidArgument("record batch has no records");
  std::vector<uint8_t> out;
  if (options_.compression == Compression::kNone) {
    // Sized once and memcpy'd: vector::insert here trips GCC 12's
    // -Warray-bounds false positive.
    out.resize(batch_layout::kHeaderSize + records_.size());
    std::memcpy(out.data() + batch_layout::kHeaderSize, records_.data(), records_.size());
  } else {
    out.resize(batch_layout::kHeaderSize);
    SLUICE_RETURN_IF_ERROR(
        compression::CompressInto(options_.compression, records_, &out, options_.compression_level));
  }
  const size_t length = out.size() - batch_layout::kLogOverhead;
  if (length > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument(fmt::format("record batch of {} bytes is too large", out.size()));
  }
  RecordBatchHeader h;
  h.base_offset = options_.base_offset;
  h.batch_length = static_cast<int32_t>(length);
  h.partition_leader_epoch = options_.partition_leader_epoch;
  h.magic = kMagicV2;
  h.attributes = Attributes(options_);
  h.last_offset_delta = record_count_ - 1;
  h.base_timestamp = base_timestamp_;
  h.max_timestamp = max_timestamp_;
  if (options_.timestamp_type == TimestampType::kLogAppendTime && options_.log_append_time) {
    h.max_timestamp = *options_.log_append_time;
  }
  h.producer_id = options_.producer_id;
  h.producer_epoch = options_.producer_epoch;
  h.base_sequence = options_.base_sequence;
  h.record_count = record_count_;
  WriteRecordBatchHeader(h, out);
  StoreBigEndian(out.data() + batch_layout::kCrc, ComputeBatchCrc(out));
  return out;
}

void RecordBatchBuilder::Reset() {
  records_.clear();
  record_count_ = 0;
  base_timestamp_ = -1;
  max_timestamp_ = -1;
}

}  // namespace sluice::model
