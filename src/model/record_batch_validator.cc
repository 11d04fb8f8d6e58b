#include "model/record_batch_validator.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/control_record.h"
#include "model/record_batch_view.h"

namespace sluice::model {

namespace {

Status ValidateControlRecord(const Record& r) {
  Result<ControlRecordKey> key = ParseControlRecordKey(r.key);
  if (!key.ok()) return key.status();
  if (key->type == static_cast<int16_t>(ControlType::kAbort) ||
      key->type == static_cast<int16_t>(ControlType::kCommit)) {
    Result<EndTxnMarker> marker = ParseEndTxnMarker(r.value);
    if (!marker.ok()) return marker.status();
  }
  return Status::Ok();
}

// Whether `ts` lies more than `bound` ms before (after) `now`. The distance
// is taken in unsigned arithmetic, where it is exact for any two int64
// values, so no client timestamp can overflow it. INT64_MAX: no bound.
bool TooFarBefore(int64_t ts, int64_t now, int64_t bound) {
  if (bound == INT64_MAX || ts >= now) return false;
  return static_cast<uint64_t>(now) - static_cast<uint64_t>(ts) > static_cast<uint64_t>(bound);
}
bool TooFarAfter(int64_t ts, int64_t now, int64_t bound) {
  if (bound == INT64_MAX || ts <= now) return false;
  return static_cast<uint64_t>(ts) - static_cast<uint64_t>(now) > static_cast<uint64_t>(bound);
}

// For the range shown in the message only.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}
int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out)) return b > 0 ? INT64_MIN : INT64_MAX;
  return out;
}

constexpr int64_t kNoTimestamp = -1;  // Kafka's RecordBatch.NO_TIMESTAMP.

// Kafka's per-record rules (LogValidator.validateRecord): the key first, then
// the timestamp; at most one error per record, with Kafka's message text.
void CheckRecordRules(const RecordRules& rules, const RecordBatchHeader& h, const Record& r,
                      int32_t index, std::vector<RecordError>* errors) {
  if (rules.require_key && !r.key.has_value()) {
    errors->push_back({RecordError::Kind::kInvalidRecord, index,
                       fmt::format("Compacted topic cannot accept message without key in topic "
                                   "partition {}-{}",
                                   rules.topic, rules.partition)});
    return;
  }
  if (rules.check_create_time && r.timestamp != kNoTimestamp) {
    if (TooFarBefore(r.timestamp, rules.now_ms, rules.before_max_ms) ||
        TooFarAfter(r.timestamp, rules.now_ms, rules.after_max_ms)) {
      errors->push_back(
          {RecordError::Kind::kInvalidTimestamp, index,
           fmt::format("Timestamp {} of message with offset {} is out of range. The timestamp "
                       "should be within [{}, {}]",
                       r.timestamp, r.offset,
                       SaturatingSub(rules.now_ms, rules.before_max_ms),
                       SaturatingAdd(rules.now_ms, rules.after_max_ms))});
    }
  } else if (h.timestamp_type() == TimestampType::kLogAppendTime) {
    // Only the broker stamps LogAppendTime.
    errors->push_back({RecordError::Kind::kInvalidTimestamp, index,
                       fmt::format("Invalid timestamp type in message with offset {}. Producer "
                                   "should not set timestamp type to LogAppendTime.",
                                   r.offset)});
  }
}

}  // namespace

std::string RecordErrorsSummary(std::span<const RecordError> errors) {
  const bool timestamps = std::any_of(errors.begin(), errors.end(), [](const RecordError& e) {
    return e.kind == RecordError::Kind::kInvalidTimestamp;
  });
  if (timestamps) return "One or more records have been rejected due to invalid timestamp";
  std::string shown;
  for (size_t i = 0; i < errors.size() && i < 3; ++i) {
    if (i > 0) shown += ", ";
    shown += fmt::format("RecordError(batchIndex={}, message='{}')", errors[i].batch_index,
                         errors[i].message);
  }
  return fmt::format("One or more records have been rejected due to {} record errors in total, "
                     "and only showing the first three errors at most: [{}]",
                     errors.size(), shown);
}

Status ValidateRecordBatch(std::span<const uint8_t> batch, const ValidationOptions& options,
                           BatchSummary* summary, std::vector<RecordError>* record_errors) {
  Result<RecordBatchHeader> parsed = ParseRecordBatchHeader(batch);
  if (!parsed.ok()) return parsed.status();
  const RecordBatchHeader& h = *parsed;
  if (h.size_bytes() != batch.size()) {
    return Status::Corruption(fmt::format("batch_length says {} bytes but {} were given",
                                          h.size_bytes(), batch.size()));
  }
  const uint32_t crc = ComputeBatchCrc(batch);
  if (crc != h.crc) {
    return Status::Corruption(fmt::format("record batch CRC mismatch: stored {:#010x}, computed {:#010x}",
                                          h.crc, crc));
  }
  if ((h.attributes & 0x07) > compression::kMaxCodecId) {
    return Status::Corruption(fmt::format("unknown compression codec {}", h.attributes & 0x07));
  }
  if (h.record_count < 0 || (h.record_count == 0 && !options.allow_empty)) {
    return Status::Corruption(fmt::format("invalid record count {}", h.record_count));
  }
  if (h.record_count > 0 && h.last_offset_delta != h.record_count - 1) {
    return Status::Corruption(fmt::format("last_offset_delta {} disagrees with record count {}",
                                          h.last_offset_delta, h.record_count));
  }
  if (h.is_control() && h.record_count != 1) {
    return Status::Corruption(fmt::format("control batch holds {} records, expected 1", h.record_count));
  }

  Result<RecordBatchView> view = RecordBatchView::Parse(batch);
  if (!view.ok()) return view.status();
  RecordIterator it = view->Records(options.decompress);
  BatchSummary s;
  Record r;
  std::vector<RecordError> rule_errors;
  while (it.Next(&r)) {
    const int32_t expected = it.index() - 1;
    if (r.offset_delta != expected) {
      std::string message = fmt::format("record {} has offset delta {}", expected, r.offset_delta);
      if (record_errors != nullptr) {
        record_errors->push_back({RecordError::Kind::kInvalidRecord, expected, message});
      }
      return Status::Corruption(std::move(message));
    }
    if (h.is_control()) SLUICE_RETURN_IF_ERROR(ValidateControlRecord(r));
    if (options.rules != nullptr) CheckRecordRules(*options.rules, h, r, expected, &rule_errors);
    if (expected == 0) s.first_timestamp = r.timestamp;
    if (expected == 0 || r.timestamp > s.max_timestamp) {
      s.max_timestamp = r.timestamp;
      s.offset_of_max_timestamp = r.offset;
    }
  }
  if (!it.status().ok()) return it.status();
  if (it.index() != h.record_count) {
    return Status::Corruption(fmt::format("record count {} but {} records decoded", h.record_count,
                                          it.index()));
  }
  if (!rule_errors.empty()) {
    std::string message = RecordErrorsSummary(rule_errors);
    if (record_errors != nullptr) {
      record_errors->insert(record_errors->end(), std::make_move_iterator(rule_errors.begin()),
                            std::make_move_iterator(rule_errors.end()));
    }
    return Status::InvalidArgument(std::move(message));
  }
  if (summary != nullptr) {
    s.record_count = it.index();
    s.uncompressed_records_bytes = it.records_bytes().size();
    *summary = s;
  }
  return Status::Ok();
}

}  // namespace sluice::model
