// Walks consecutive record batches in one buffer: the records field of a
// Produce request (Kafka allows several batches per partition), a slice of a
// log segment, a Fetch response's records.
//
//   BatchSequence seq(bytes);
//   std::span<const uint8_t> batch;
//   while (seq.Next(&batch)) { ... ValidateRecordBatch(batch) ... }
//   if (!seq.status().ok()) ...
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"

namespace sluice::model {

class BatchSequence {
 public:
  // A Fetch response may end with a partial batch (the broker cuts at
  // max_bytes); readers of one pass allow_partial_tail. Everywhere else a
  // partial batch at the end is corruption.
  explicit BatchSequence(std::span<const uint8_t> bytes, bool allow_partial_tail = false)
      : bytes_(bytes), allow_partial_tail_(allow_partial_tail) {}

  // Sets *batch to the next whole batch (exactly its size_bytes()) and
  // returns true; false at the end or on error (see status()). Checks only
  // framing: length, magic. Magic 0/1 give NotSupported.
  bool Next(std::span<const uint8_t>* batch);

  const Status& status() const { return status_; }
  // Bytes consumed by the batches returned so far.
  size_t position() const { return pos_; }
  // Bytes of a partial tail that was skipped (allow_partial_tail only).
  size_t partial_tail_bytes() const { return partial_tail_; }

 private:
  std::span<const uint8_t> bytes_;
  bool allow_partial_tail_;
  size_t pos_ = 0;
  size_t partial_tail_ = 0;
  bool done_ = false;
  Status status_;
};

}  // namespace sluice::model
