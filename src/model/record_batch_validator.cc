#include "model/record_batch_validator.h"

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

}  // namespace

Status ValidateRecordBatch(std::span<const uint8_t> batch, const ValidationOptions& options,
                           BatchSummary* summary) {
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
  while (it.Next(&r)) {
    const int32_t expected = it.index() - 1;
    if (r.offset_delta != expected) {
      return Status::Corruption(fmt::format("record {} has offset delta {}", expected, r.offset_delta));
    }
    if (h.is_control()) SLUICE_RETURN_IF_ERROR(ValidateControlRecord(r));
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
  if (summary != nullptr) {
    s.record_count = it.index();
    s.uncompressed_records_bytes = it.records_bytes().size();
    *summary = s;
  }
  return Status::Ok();
}

}  // namespace sluice::model
