// Partition: one partition this broker leads, on top of its storage::Log.
//
// It adds what the log does not know about: the leader epoch it writes with,
// the idempotent producers' state, the high watermark policy and the fetchers
// waiting for it to move. On a single node the high watermark is the flushed
// offset, so a consumer never sees a record that a crash could take back.
//
// Thread-safe. Appends are serialized by the partition's own mutex (never a
// broker-wide lock), so producer-state checks and the append are atomic.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "base/status.h"
#include "cluster/producer_state.h"
#include "cluster/topic_table.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "base/mutex.h"

namespace sluice::cluster {

struct AppendOutcome {
  SequenceCheck check = SequenceCheck::kAccept;  // kOutOfOrder/kStaleEpoch: nothing written.
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time_ms = -1;  // Set when the topic uses LogAppendTime.
};

class Partition {
 public:
  Partition(storage::TopicPartition tp, TopicId topic_id, std::shared_ptr<storage::Log> log,
            int32_t leader_epoch);

  const storage::TopicPartition& tp() const { return tp_; }
  const TopicId& topic_id() const { return topic_id_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  // The log itself, for cluster/'s own machinery (flusher, config updates)
  // and tests. Request handlers go through the operations below, so that
  // what a replica may answer (leadership, epochs, the high watermark) is
  // decided in one place when replication arrives.
  storage::Log& log() { return *log_; }

  // KIP-320: a request's current_leader_epoch against this replica's.
  // kOk when the request names none (-1) or the same epoch; kFenced when it
  // is older (the client must refresh), kUnknown when newer (this replica
  // has not learned of it yet; the client retries).
  enum class EpochCheck { kOk, kFenced, kUnknown };
  EpochCheck CheckLeaderEpoch(int32_t current_leader_epoch) const;

  int64_t log_start_offset() { return log_->log_start_offset(); }
  int64_t log_end_offset() { return log_->log_end_offset(); }
  // Whole batches from the one holding `offset`, ending below `max_offset`
  // (the caller's visibility bound: the high watermark for consumers).
  Result<storage::ReadResult> Read(int64_t offset, uint64_t max_bytes, int64_t max_offset) {
    return log_->Read(offset, max_bytes, max_offset);
  }
  // ListOffsets by timestamp and -3 (storage::Log's lookups; the caller
  // bounds the answer by what it may expose).
  Result<std::optional<storage::TimestampLookup>> FindOffsetByTimestamp(int64_t timestamp) {
    return log_->FindOffsetByTimestamp(timestamp);
  }
  Result<std::optional<storage::TimestampLookup>> FindMaxTimestamp() {
    return log_->FindMaxTimestamp();
  }
  // OffsetForLeaderEpoch: (epoch, end offset) from the log's epoch history.
  std::pair<int32_t, int64_t> EndOffsetForEpoch(int32_t epoch) {
    return log_->EndOffsetForEpoch(epoch);
  }
  // DeleteRecords: raises the log start offset to `offset`, which must not
  // pass the high watermark (OutOfRange otherwise, as for a negative one).
  // Returns the new log start offset.
  Result<int64_t> DeleteRecordsBefore(int64_t offset);

  // Appends one validated batch, patching its header in place (base offset,
  // leader epoch; with `log_append_time_ms` >= 0 also the timestamps and the
  // CRC). Duplicates from idempotent producers are not written again.
  Result<AppendOutcome> Append(std::span<uint8_t> batch, int64_t log_append_time_ms);

  // Re-reads the recent tail of the log to rebuild idempotent producer
  // state after a restart (the last `max_bytes` of data).
  Status RebuildProducerState(uint64_t max_bytes);

  // Called after a flush: the high watermark becomes the flushed offset and
  // every waiter registered before is run (on the caller's thread).
  void OnFlushed();
  int64_t high_watermark() { return log_->high_watermark(); }

  // Registers a one-shot callback for the next high-watermark advance.
  // Returns an id for RemoveWaiter; callbacks must be cheap and non-blocking.
  uint64_t AddWaiter(std::function<void()> fn);
  void RemoveWaiter(uint64_t id);

 private:
  const storage::TopicPartition tp_;
  const TopicId topic_id_;
  const std::shared_ptr<storage::Log> log_;
  const int32_t leader_epoch_;

  Mutex append_mu_;
  ProducerStateTable producers_ GUARDED_BY(append_mu_);
  Mutex waiters_mu_;
  uint64_t next_waiter_id_ GUARDED_BY(waiters_mu_) = 1;
  std::map<uint64_t, std::function<void()>> waiters_ GUARDED_BY(waiters_mu_);
};

}  // namespace sluice::cluster
