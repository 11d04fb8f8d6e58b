#include "model/record_batch_header.h"

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/endian.h"

namespace sluice::model {

using namespace batch_layout;

Result<RecordBatchHeader> ParseRecordBatchHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMinMagicPrefix) {
    return Status::Corruption(fmt::format("record batch truncated: {} bytes", bytes.size()));
  }
  const uint8_t* p = bytes.data();
  RecordBatchHeader h;
  h.base_offset = LoadBigEndian<int64_t>(p + kBaseOffset);
  h.batch_length = LoadBigEndian<int32_t>(p + kBatchLength);
  h.partition_leader_epoch = LoadBigEndian<int32_t>(p + kPartitionLeaderEpoch);
  h.magic = static_cast<int8_t>(p[kMagic]);
  if (h.magic != kMagicV2) {
    if (h.magic == 0 || h.magic == 1) {
      return Status::NotSupported(
          fmt::format("message format v{} (magic {}) is not supported; use record batch v2",
                      h.magic, h.magic));
    }
    return Status::Corruption(fmt::format("unknown record batch magic {}", h.magic));
  }
  if (bytes.size() < kHeaderSize) {
    return Status::Corruption(fmt::format("record batch header truncated: {} bytes", bytes.size()));
  }
  if (h.batch_length < static_cast<int32_t>(kHeaderSize - kLogOverhead)) {
    return Status::Corruption(fmt::format("record batch length {} is below the header size",
                                          h.batch_length));
  }
  h.crc = LoadBigEndian<uint32_t>(p + kCrc);
  h.attributes = LoadBigEndian<int16_t>(p + kAttributes);
  h.last_offset_delta = LoadBigEndian<int32_t>(p + kLastOffsetDelta);
  h.base_timestamp = LoadBigEndian<int64_t>(p + kBaseTimestamp);
  h.max_timestamp = LoadBigEndian<int64_t>(p + kMaxTimestamp);
  h.producer_id = LoadBigEndian<int64_t>(p + kProducerId);
  h.producer_epoch = LoadBigEndian<int16_t>(p + kProducerEpoch);
  h.base_sequence = LoadBigEndian<int32_t>(p + kBaseSequence);
  h.record_count = LoadBigEndian<int32_t>(p + kRecordCount);
  return h;
}

void WriteRecordBatchHeader(const RecordBatchHeader& h, std::span<uint8_t> out) {
  uint8_t* p = out.data();
  StoreBigEndian(p + kBaseOffset, h.base_offset);
  StoreBigEndian(p + kBatchLength, h.batch_length);
  StoreBigEndian(p + kPartitionLeaderEpoch, h.partition_leader_epoch);
  p[kMagic] = static_cast<uint8_t>(h.magic);
  StoreBigEndian(p + kCrc, h.crc);
  StoreBigEndian(p + kAttributes, h.attributes);
  StoreBigEndian(p + kLastOffsetDelta, h.last_offset_delta);
  StoreBigEndian(p + kBaseTimestamp, h.base_timestamp);
  StoreBigEndian(p + kMaxTimestamp, h.max_timestamp);
  StoreBigEndian(p + kProducerId, h.producer_id);
  StoreBigEndian(p + kProducerEpoch, h.producer_epoch);
  StoreBigEndian(p + kBaseSequence, h.base_sequence);
  StoreBigEndian(p + kRecordCount, h.record_count);
}

uint32_t ComputeBatchCrc(std::span<const uint8_t> batch) {
  return crc32c::Value(batch.subspan(kAttributes));
}

bool VerifyBatchCrc(std::span<const uint8_t> batch) {
  if (batch.size() < kHeaderSize) return false;
  return LoadBigEndian<uint32_t>(batch.data() + kCrc) == ComputeBatchCrc(batch);
}

void SetBaseOffset(std::span<uint8_t> batch, int64_t base_offset) {
  StoreBigEndian(batch.data() + kBaseOffset, base_offset);
}

void SetPartitionLeaderEpoch(std::span<uint8_t> batch, int32_t epoch) {
  StoreBigEndian(batch.data() + kPartitionLeaderEpoch, epoch);
}

void SetLogAppendTime(std::span<uint8_t> batch, int64_t now) {
  uint8_t* p = batch.data();
  const auto attributes = static_cast<int16_t>(LoadBigEndian<int16_t>(p + kAttributes) | 0x08);
  StoreBigEndian(p + kAttributes, attributes);
  StoreBigEndian(p + kMaxTimestamp, now);
  StoreBigEndian(p + kCrc, ComputeBatchCrc(batch));
}

void SetMaxTimestamp(std::span<uint8_t> batch, int64_t max_timestamp) {
  uint8_t* p = batch.data();
  if (LoadBigEndian<int64_t>(p + kMaxTimestamp) == max_timestamp) return;
  StoreBigEndian(p + kMaxTimestamp, max_timestamp);
  StoreBigEndian(p + kCrc, ComputeBatchCrc(batch));
}

}  // namespace sluice::model
