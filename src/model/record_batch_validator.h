// The checks a broker makes before accepting a batch from a producer (or
// trusting one read back from disk): everything Kafka's LogValidator checks
// about the batch's own consistency. Errors name the field and record.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "compression/compression.h"

namespace sluice::model {

struct ValidationOptions {
  compression::DecompressOptions decompress;
  // Kafka rejects empty batches from producers; compaction can leave them
  // on disk, so readers of a log may allow them.
  bool allow_empty = false;
};

// `batch` must be exactly one batch. Checks, in order: header (magic 2;
// 0/1 give NotSupported), batch_length equals the bytes given, CRC, known
// codec, record_count > 0 and equal to last_offset_delta + 1, then every
// record: decodes within its bounds, offset deltas 0..n-1 in order, no bytes
// left over; control batches hold exactly one record with a valid control
// key (and an end-transaction marker value for ABORT/COMMIT).
// Returns Corruption for bad data, InvalidArgument for a decompression bomb.
// When `summary` is given and the batch is valid, fills it in: the broker
// needs the true max timestamp (clients' header values are not trusted).
struct BatchSummary {
  int32_t record_count = 0;
  int64_t first_timestamp = -1;
  int64_t max_timestamp = -1;         // Over the records' own timestamps.
  int64_t offset_of_max_timestamp = -1;
  size_t uncompressed_records_bytes = 0;
};
Status ValidateRecordBatch(std::span<const uint8_t> batch, const ValidationOptions& options = {},
                           BatchSummary* summary = nullptr);

}  // namespace sluice::model
