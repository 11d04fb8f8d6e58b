// The fixed 61-byte header of a Kafka v2 record batch (magic 2), shared by the
// storage engine (which stores batches exactly as served) and the protocol
// layer. Layout, all integers big-endian:
//
//   offset  size  field
//        0     8  base_offset
//        8     4  batch_length             bytes after this field
//       12     4  partition_leader_epoch
//       16     1  magic                    2
//       17     4  crc                      CRC32C of bytes [21, end)
//       21     2  attributes               bits 0-2 codec, 3 timestamp type,
//                                          4 transactional, 5 control
//       23     4  last_offset_delta
//       27     8  base_timestamp
//       35     8  max_timestamp
//       43     8  producer_id
//       51     2  producer_epoch
//       53     4  base_sequence
//       57     4  record_count
//       61        records...
//
// base_offset and partition_leader_epoch are not covered by the CRC, which is
// why the broker can assign them without recomputing it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "compression/compression.h"

namespace sluice::model {

namespace batch_layout {
inline constexpr size_t kBaseOffset = 0;
inline constexpr size_t kBatchLength = 8;
inline constexpr size_t kPartitionLeaderEpoch = 12;
inline constexpr size_t kMagic = 16;
inline constexpr size_t kCrc = 17;
inline constexpr size_t kAttributes = 21;
inline constexpr size_t kLastOffsetDelta = 23;
inline constexpr size_t kBaseTimestamp = 27;
inline constexpr size_t kMaxTimestamp = 35;
inline constexpr size_t kProducerId = 43;
inline constexpr size_t kProducerEpoch = 51;
inline constexpr size_t kBaseSequence = 53;
inline constexpr size_t kRecordCount = 57;
inline constexpr size_t kHeaderSize = 61;
// Bytes before batch_length's coverage starts: base_offset + batch_length.
inline constexpr size_t kLogOverhead = 12;
// Magic 0/1 (legacy message sets) share the first 17 bytes' meaning.
inline constexpr size_t kMinMagicPrefix = 17;
}  // namespace batch_layout

inline constexpr int8_t kMagicV2 = 2;

// The codec ids are the attribute bits; compression/ owns the enum.
using Compression = compression::Codec;
enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct RecordBatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  // Total bytes of the batch on the wire/disk, header included.
  size_t size_bytes() const { return batch_layout::kLogOverhead + static_cast<size_t>(batch_length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  Compression compression() const { return static_cast<Compression>(attributes & 0x07); }
  TimestampType timestamp_type() const {
    return (attributes & 0x08) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
};

// Parses the header at the start of `bytes`. Checks only what the header alone
// can prove: enough bytes for a header, magic 2 (magic 0/1 get NotSupported),
// batch_length at least the header's own remainder. Does not check the CRC.
Result<RecordBatchHeader> ParseRecordBatchHeader(std::span<const uint8_t> bytes);

// Writes `header` into the first kHeaderSize bytes of `out` (crc as given).
void WriteRecordBatchHeader(const RecordBatchHeader& header, std::span<uint8_t> out);

// CRC32C over bytes [kAttributes, size) of a whole batch.
uint32_t ComputeBatchCrc(std::span<const uint8_t> batch);

// True when `batch` (exactly one whole batch) carries a correct CRC.
bool VerifyBatchCrc(std::span<const uint8_t> batch);

// Overwrites base_offset / partition_leader_epoch in place (not CRC-covered).
void SetBaseOffset(std::span<uint8_t> batch, int64_t base_offset);
void SetPartitionLeaderEpoch(std::span<uint8_t> batch, int32_t epoch);

// For topics with message.timestamp.type=LogAppendTime: marks the batch
// (exactly one whole batch) LogAppendTime with max_timestamp = `now`, which
// readers report as every record's timestamp, and rewrites the CRC. Records
// are untouched, so compressed batches need no recompression.
void SetLogAppendTime(std::span<uint8_t> batch, int64_t now);

// For CreateTime batches: the broker, not the client, decides a batch's max
// timestamp (as Kafka's log validator does), because segment rolls, the
// time index and ListOffsets trust it. Writes `max_timestamp` (the largest
// record timestamp, from validation) and the CRC when the header differs;
// a no-op for honest clients. REQUIRES: exactly one whole batch.
void SetMaxTimestamp(std::span<uint8_t> batch, int64_t max_timestamp);

}  // namespace sluice::model
