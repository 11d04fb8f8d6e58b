// The checks a broker makes before accepting a batch from a producer (or
// trusting one read back from disk): everything Kafka's LogValidator checks
// about the batch's own consistency, and, for a producer's batch, the
// topic's rules every record must satisfy (a key on a compacted topic, a
// CreateTime within the accepted range). Errors name the field and record.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "compression/compression.h"

namespace sluice::model {

// What one record of a batch broke (Kafka's RecordError, KIP-467): the
// producer fails exactly the records named and reports the rest of the batch
// as refused because of them.
struct RecordError {
  enum class Kind {
    kInvalidRecord,     // Kafka's INVALID_RECORD.
    kInvalidTimestamp,  // Kafka's INVALID_TIMESTAMP.
  };
  Kind kind = Kind::kInvalidRecord;
  int32_t batch_index = 0;  // The record's position in its batch, from 0.
  std::string message;
};

// A topic's rules for the records a producer sends (Kafka's LogValidator).
struct RecordRules {
  // cleanup.policy contains compact: every record needs a non-null key.
  bool require_key = false;
  // message.timestamp.type=CreateTime: a record's own timestamp (unless -1,
  // "none") must lie within [now - before_max_ms, now + after_max_ms].
  // INT64_MAX means no bound on that side (Kafka's default). Compared
  // exactly, without overflow, whatever the client sent.
  bool check_create_time = true;
  int64_t now_ms = 0;
  int64_t before_max_ms = INT64_MAX;
  int64_t after_max_ms = INT64_MAX;
  // The partition, for messages only (formatted only when one is needed).
  std::string_view topic;
  int32_t partition = 0;
};

struct ValidationOptions {
  compression::DecompressOptions decompress;
  // Kafka rejects empty batches from producers; compaction can leave them
  // on disk, so readers of a log may allow them.
  bool allow_empty = false;
  // A producer's batch: also check every record against these rules. Null
  // (batches read back from a log): structure only.
  const RecordRules* rules = nullptr;
};

// `batch` must be exactly one batch. Checks, in order: header (magic 2;
// 0/1 give NotSupported), batch_length equals the bytes given, CRC, known
// codec, record_count > 0 and equal to last_offset_delta + 1, then every
// record: decodes within its bounds, offset deltas 0..n-1 in order, no bytes
// left over; control batches hold exactly one record with a valid control
// key (and an end-transaction marker value for ABORT/COMMIT).
// Returns Corruption for bad data, InvalidArgument for a decompression bomb.
// With options.rules, also checks every record against them (after its
// structure) and collects every violation into *record_errors (which must
// then be given); if there is any, returns InvalidArgument with Kafka's
// summary (RecordErrorsSummary). A structural problem of one record (its
// offset delta) is reported in *record_errors too, when given.
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
                           BatchSummary* summary = nullptr,
                           std::vector<RecordError>* record_errors = nullptr);

// The partition-level message Kafka sends with record errors: a fixed text
// when any timestamp is refused, else the count and the first three errors.
// REQUIRES: !errors.empty().
std::string RecordErrorsSummary(std::span<const RecordError> errors);

}  // namespace sluice::model
