#include "cluster/producer_state.h"

namespace sluice::cluster {
namespace {

// Sequence numbers wrap at INT32_MAX back to 0 (Kafka's rule).
int32_t NextSequence(int32_t seq) { return seq == INT32_MAX ? 0 : seq + 1; }

int32_t LastSequence(const model::RecordBatchHeader& b) {
  int64_t last = static_cast<int64_t>(b.base_sequence) + b.last_offset_delta;
  return static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
}

}  // namespace

SequenceCheck ProducerStateTable::Check(const model::RecordBatchHeader& batch,
                                        std::optional<BatchMetadata>* duplicate_of) const {
  auto it = producers_.find(batch.producer_id);
  if (it == producers_.end()) {
    // A producer we have no state for (new, or its state expired): accept,
    // as Kafka does since KIP-360, whatever its first sequence is.
    return SequenceCheck::kAccept;
  }
  const Entry& entry = it->second;
  if (batch.producer_epoch < entry.epoch) return SequenceCheck::kStaleEpoch;
  if (batch.producer_epoch > entry.epoch) {
    // A bumped epoch starts its sequences again at 0.
    return batch.base_sequence == 0 ? SequenceCheck::kAccept : SequenceCheck::kOutOfOrder;
  }
  for (const BatchMetadata& b : entry.batches) {
    if (b.first_sequence == batch.base_sequence && b.last_sequence == LastSequence(batch)) {
      *duplicate_of = b;
      return SequenceCheck::kDuplicate;
    }
  }
  if (entry.batches.empty()) return SequenceCheck::kAccept;
  if (batch.base_sequence != NextSequence(entry.batches.back().last_sequence)) {
    return SequenceCheck::kOutOfOrder;
  }
  return SequenceCheck::kAccept;
}

void ProducerStateTable::Record(const model::RecordBatchHeader& batch, int64_t first_offset,
                                int64_t timestamp) {
  Entry& entry = producers_[batch.producer_id];
  if (batch.producer_epoch != entry.epoch) {
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back(BatchMetadata{batch.base_sequence, LastSequence(batch), first_offset,
                                        first_offset + batch.last_offset_delta, timestamp});
  while (entry.batches.size() > kBatchesKept) entry.batches.pop_front();
}

void ProducerStateTable::TruncateFrom(int64_t offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& batches = it->second.batches;
    while (!batches.empty() && batches.back().last_offset >= offset) batches.pop_back();
    if (batches.empty()) {
      it = producers_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sluice::cluster
