// Control records: the single record of a control batch (attributes bit 5),
// written by a transaction coordinator to mark where a transaction ended.
//   key:   version int16 (0) | type int16 (0 = ABORT, 1 = COMMIT)
//   value: version int16 (0) | coordinator_epoch int32
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "model/record.h"

namespace sluice::model {

enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };

struct ControlRecordKey {
  int16_t version = 0;
  int16_t type = 0;  // Raw: KRaft adds types beyond ABORT/COMMIT.
};

struct EndTxnMarker {
  int16_t version = 0;
  int32_t coordinator_epoch = 0;
};

inline constexpr size_t kControlKeySize = 4;
inline constexpr size_t kEndTxnMarkerSize = 6;

// Parse the key/value of a control record. Both accept longer input (later
// versions may append fields) but refuse shorter input and negative versions.
Result<ControlRecordKey> ParseControlRecordKey(std::optional<Bytes> key);
Result<EndTxnMarker> ParseEndTxnMarker(std::optional<Bytes> value);

std::vector<uint8_t> EncodeControlRecordKey(ControlType type);
std::vector<uint8_t> EncodeEndTxnMarker(int32_t coordinator_epoch);

// A whole transactional control batch holding one ABORT or COMMIT marker.
Result<std::vector<uint8_t>> BuildEndTxnBatch(ControlType type, int64_t producer_id,
                                              int16_t producer_epoch, int32_t coordinator_epoch,
                                              int64_t timestamp, int64_t base_offset = 0);

}  // namespace sluice::model
