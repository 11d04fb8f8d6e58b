// ListOffsets by timestamp at record granularity, as Kafka answers it: the
// offset and timestamp of the first *record* whose timestamp reaches the
// target, not the batch holding it. Batch headers (read through a
// BatchScanner) pick the batches worth opening -- only one whose max
// timestamp reaches the target can hold such a record -- and only those are
// read whole and iterated (decompressed when compressed). A LogAppendTime
// batch reports its max timestamp for every record (model/record.h).
//
// Both functions read a closed range of one segment's .log through `file`
// without any lock (the caller took the range under the log's mutex; the
// File stays open while the caller holds it). Not thread-safe per call, but
// any number may run at once.
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::storage {

struct TimestampLookup {
  int64_t offset = 0;
  int64_t timestamp = 0;    // the record's own timestamp
  int32_t leader_epoch = -1;  // of the batch holding it; -1 if it has none
};

// The first record in the batches of [start, end) whose timestamp >= `target`
// and whose offset >= `min_offset`; nullopt if none. A batch whose max
// timestamp reaches the target but none of whose records do (the cleaner
// keeps a batch's header timestamps when it drops records) is passed over.
// REQUIRES: `start` is a batch boundary. Corruption if a batch that must be
// opened does not decode.
Result<std::optional<TimestampLookup>> SearchForTimestamp(const File& file, uint64_t start,
                                                          uint64_t end, int64_t target,
                                                          int64_t min_offset);

// KIP-734 (ListOffsets -3): in the first batch of [start, end) whose max
// timestamp equals `max_timestamp`, the first record with that timestamp.
// If no record carries it any more (compacted away), the batch's last offset
// with its max timestamp. nullopt if no batch has it.
Result<std::optional<TimestampLookup>> FindRecordWithMaxTimestamp(const File& file, uint64_t start,
                                                                  uint64_t end,
                                                                  int64_t max_timestamp);

}  // namespace sluice::storage
