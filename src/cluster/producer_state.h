// ProducerStateTable: what an idempotent producer has written to one
// partition, so a retried batch is answered as a success without being
// written twice and a gap in sequence numbers is refused (KIP-98).
//
// Per producer id it keeps the epoch and the last five batches (the most a
// producer keeps in flight per partition: max.in.flight <= 5), as Kafka does.
// Not thread-safe: the owning Partition serializes access.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "model/record_batch_header.h"

namespace sluice::cluster {

enum class SequenceCheck {
  kAccept,            // New batch, append it.
  kDuplicate,         // Already written: answer with the cached offsets.
  kOutOfOrder,        // OUT_OF_ORDER_SEQUENCE_NUMBER
  kStaleEpoch,        // INVALID_PRODUCER_EPOCH (an older epoch than seen)
};

struct BatchMetadata {
  int32_t first_sequence = 0;
  int32_t last_sequence = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  int64_t timestamp = 0;
};

class ProducerStateTable {
 public:
  static constexpr size_t kBatchesKept = 5;

  // Decides what to do with `batch` (a header with producer_id >= 0).
  // On kDuplicate, *duplicate_of is the batch written before.
  SequenceCheck Check(const model::RecordBatchHeader& batch,
                      std::optional<BatchMetadata>* duplicate_of) const;

  // Records a batch written at [first_offset, last_offset]. Also used to
  // rebuild the table by replaying a log's batch headers after a restart.
  void Record(const model::RecordBatchHeader& batch, int64_t first_offset, int64_t timestamp);

  // Forgets batches at or after `offset` (log truncation).
  void TruncateFrom(int64_t offset);

  size_t producer_count() const { return producers_.size(); }

 private:
  struct Entry {
    int16_t epoch = -1;
    std::deque<BatchMetadata> batches;  // Oldest first.
  };
  std::unordered_map<int64_t, Entry> producers_;
};

}  // namespace sluice::cluster
