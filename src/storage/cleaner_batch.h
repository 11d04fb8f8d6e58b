// Rewrites one v2 record batch keeping only some of its records, for the log
// cleaner. What is kept is exactly what was there: the base offset, every
// kept record's bytes (so its offset delta, timestamp delta, key, value and
// headers), and every header field but the record count, length and CRC --
// last_offset_delta, base/max timestamps, attributes, producer id, epoch and
// base sequence included, so offsets, timestamps and idempotent producer
// state read the same. A compressed batch is decompressed, filtered and
// compressed again with its codec (at the codec's default level).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/record.h"

namespace sluice::storage {

enum class FilterOutcome {
  kUnchanged,  // every record kept: use the original bytes
  kRewritten,  // some records dropped: *out holds the new batch
  kEmpty,      // every record dropped: drop the batch
};

struct FilterCounts {
  int32_t kept = 0;
  int32_t dropped = 0;
};

// Calls `retain` for each record of `batch` (exactly one whole batch, not a
// control batch) in order. With `out` null only decides; otherwise fills
// *out on kRewritten. Corruption if the records cannot be decoded.
Result<FilterOutcome> FilterBatch(std::span<const uint8_t> batch,
                                  const std::function<bool(const model::Record&)>& retain,
                                  std::vector<uint8_t>* out, FilterCounts* counts = nullptr);

}  // namespace sluice::storage
