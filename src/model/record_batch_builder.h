// Builds a valid v2 record batch: used by tests and by the broker for its
// own internal topics (offsets, transaction markers), so it has to produce
// exactly what a Kafka client would accept.
//
//   RecordBatchBuilder b({.compression = Compression::kLz4});
//   b.Add(ts, AsBytes("key"), AsBytes("value"), {{"h", AsBytes("v")}});
//   Result<std::vector<uint8_t>> batch = b.Build();
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/record.h"
#include "model/record_batch_header.h"

namespace sluice::model {

struct RecordBatchOptions {
  Compression compression = Compression::kNone;
  std::optional<int> compression_level;  // Codec default when unset.
  TimestampType timestamp_type = TimestampType::kCreateTime;
  // For LogAppendTime batches: the time the broker appended them, written as
  // max_timestamp (which readers report as every record's timestamp).
  std::optional<int64_t> log_append_time;
  bool transactional = false;
  bool control = false;
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(RecordBatchOptions options = {}) : options_(options) {}

  // Appends a record with the next offset delta. Bytes are copied; nullopt
  // key/value/header value encode as null.
  void Add(int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
           std::span<const Header> headers = {});
  // For braced header lists, which std::span cannot take in C++20.
  void Add(int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
           std::initializer_list<Header> headers) {
    Add(timestamp, key, value, std::span<const Header>(headers.begin(), headers.size()));
  }

  int32_t record_count() const { return record_count_; }
  // Encoded (uncompressed) size of the records so far, header excluded.
  size_t records_size() const { return records_.size(); }

  // Encodes the batch (compressing the records, filling in counts,
  // timestamps and the CRC). Refuses an empty batch, which Kafka rejects.
  // The builder may be reused after Reset().
  Result<std::vector<uint8_t>> Build() const;
  void Reset();

 private:
  RecordBatchOptions options_;
  std::vector<uint8_t> records_;  // Encoded records, uncompressed.
  std::vector<uint8_t> scratch_;  // One record's body while sizing it.
  int32_t record_count_ = 0;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
};

}  // namespace sluice::model
