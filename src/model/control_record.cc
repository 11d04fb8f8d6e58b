#include "model/control_record.h"

#include <fmt/format.h>

#include "base/endian.h"
#include "model/record_batch_builder.h"

namespace sluice::model {

Result<ControlRecordKey> ParseControlRecordKey(std::optional<Bytes> key) {
  if (!key || key->size() < kControlKeySize) {
    return Status::Corruption(fmt::format("control record key must be at least {} bytes, got {}",
                                          kControlKeySize, key ? static_cast<long>(key->size()) : -1L));
  }
  ControlRecordKey k;
  k.version = LoadBigEndian<int16_t>(key->data());
  k.type = LoadBigEndian<int16_t>(key->data() + 2);
  if (k.version < 0) {
    return Status::Corruption(fmt::format("control record key version {} is negative", k.version));
  }
  return k;
}

Result<EndTxnMarker> ParseEndTxnMarker(std::optional<Bytes> value) {
  if (!value || value->size() < kEndTxnMarkerSize) {
    return Status::Corruption(fmt::format("transaction marker value must be at least {} bytes, got {}",
                                          kEndTxnMarkerSize, value ? static_cast<long>(value->size()) : -1L));
  }
  EndTxnMarker m;
  m.version = LoadBigEndian<int16_t>(value->data());
  m.coordinator_epoch = LoadBigEndian<int32_t>(value->data() + 2);
  if (m.version < 0) {
    return Status::Corruption(fmt::format("transaction marker version {} is negative", m.version));
  }
  return m;
}

std::vector<uint8_t> EncodeControlRecordKey(ControlType type) {
  std::vector<uint8_t> out(kControlKeySize);
  StoreBigEndian<int16_t>(out.data(), 0);
  StoreBigEndian(out.data() + 2, static_cast<int16_t>(type));
  return out;
}

std::vector<uint8_t> EncodeEndTxnMarker(int32_t coordinator_epoch) {
  std::vector<uint8_t> out(kEndTxnMarkerSize);
  StoreBigEndian<int16_t>(out.data(), 0);
  StoreBigEndian(out.data() + 2, coordinator_epoch);
  return out;
}

Result<std::vector<uint8_t>> BuildEndTxnBatch(ControlType type, int64_t producer_id,
                                              int16_t producer_epoch, int32_t coordinator_epoch,
                                              int64_t timestamp, int64_t base_offset) {
  RecordBatchBuilder b({.transactional = true,
                        .control = true,
                        .base_offset = base_offset,
                        .producer_id = producer_id,
                        .producer_epoch = producer_epoch});
  const std::vector<uint8_t> key = EncodeControlRecordKey(type);
  const std::vector<uint8_t> value = EncodeEndTxnMarker(coordinator_epoch);
  b.Add(timestamp, Bytes(key), Bytes(value));
  return b.Build();
}

}  // namespace sluice::model
