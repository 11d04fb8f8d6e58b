// Partition: one replica of a partition on this broker, on top of its
// storage::Log.
//
// It adds what the log does not know about: whether this replica leads or
// follows, the leader epoch it writes with, the idempotent producers' state,
// the high watermark policy and the fetchers waiting for it to move.
//
// A partition starts as the leader of itself alone, which is the single
// node: the high watermark is the flushed offset, so a consumer never sees a
// record that a crash could take back. In a cluster the controller makes it
// a leader of several replicas (BecomeLeader) or a follower (BecomeFollower).
// A leader's high watermark is the smallest durable end offset over its ISR
// (replica_set.h); a follower's is its leader's, as far as it has the data
// on disk itself.
//
// Thread-safe. Appends are serialized by the partition's own mutex (never a
// broker-wide lock), so producer-state checks and the append are atomic.
// Lock order: append_mu_, then replica_mu_, then waiters_mu_.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cluster/producer_state.h"
#include "cluster/replica_set.h"
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
  // The partition had followers when the batch was appended: acks=all waits
  // for the in-sync replicas (WhenCommitted, which answers NotLeader once
  // leadership moved), never for this replica's flush alone, even if this
  // replica has become a follower since.
  bool replicated = false;
};

class Partition {
 public:
  Partition(storage::TopicPartition tp, TopicId topic_id, std::shared_ptr<storage::Log> log,
            int32_t leader_epoch);

  const storage::TopicPartition& tp() const { return tp_; }
  const TopicId& topic_id() const { return topic_id_; }
  int32_t leader_epoch() const { return leader_epoch_.load(std::memory_order_acquire); }
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
  // DescribeLogDirs: the bytes of the log's segments, and the data
  // directory (one of log.dirs) that holds it.
  uint64_t size_bytes() { return log_->size_bytes(); }
  std::filesystem::path data_dir() const { return log_->dir().parent_path(); }
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
  // The newest leader epoch in the log's history; nullopt for none.
  std::optional<int32_t> LatestEpochInLog() {
    auto epochs = log_->epochs();
    return epochs.empty() ? std::nullopt : std::optional<int32_t>(epochs.back().epoch);
  }
  // DeleteRecords: raises the log start offset to `offset`, which must not
  // pass the high watermark (OutOfRange otherwise, as for a negative one).
  // Returns the new log start offset.
  Result<int64_t> DeleteRecordsBefore(int64_t offset);

  // Appends one validated batch, patching its header in place (base offset,
  // leader epoch; with `log_append_time_ms` >= 0 also the timestamps and the
  // CRC). Duplicates from idempotent producers are not written again.
  // NotLeader when this replica does not lead the partition.
  Result<AppendOutcome> Append(std::span<uint8_t> batch, int64_t log_append_time_ms);

  // Re-reads the recent tail of the log to rebuild idempotent producer
  // state after a restart (the last `max_bytes` of data).
  Status RebuildProducerState(uint64_t max_bytes);

  // Called after a flush: the high watermark moves as far as the flushed
  // offset allows (see the top of this file) and every waiter registered
  // before is run (on the caller's thread).
  void OnFlushed();
  int64_t high_watermark() { return log_->high_watermark(); }

  // Registers a one-shot callback for the next high-watermark advance (and,
  // on a leader with followers, the next append, which their fetches wait
  // for). Returns an id for RemoveWaiter; callbacks must be cheap and
  // non-blocking.
  uint64_t AddWaiter(std::function<void()> fn);
  void RemoveWaiter(uint64_t id);

  // --- Replication ---------------------------------------------------------

  struct Leadership {
    int32_t local_id = -1;  // this broker
    int32_t leader_epoch = 0;
    int32_t partition_epoch = 0;    // the version of the partition's state
    std::vector<int32_t> replicas;  // assignment order, local_id among them
    std::vector<int32_t> isr;       // local_id among them
  };
  // This replica leads from now on (LeaderAndIsr). Its appends carry
  // `leadership.leader_epoch`. REQUIRES: leader_epoch >= leader_epoch().
  void BecomeLeader(const Leadership& leadership, int64_t now_ms);
  // This replica follows `leader_id` (-1: no leader known) at
  // `leader_epoch`: appends are refused, and every acks=all waiter is
  // answered NotLeader. REQUIRES: leader_epoch >= leader_epoch().
  void BecomeFollower(int32_t leader_id, int32_t leader_epoch, int32_t partition_epoch);

  bool is_leader() const { return leader_.load(std::memory_order_acquire); }
  // The leader this replica knows of: this broker's id while it leads
  // (-1 on a single node, which has no ids), -1 when none is known.
  int32_t leader_id() const EXCLUDES(replica_mu_);
  int32_t partition_epoch() const EXCLUDES(replica_mu_);
  // The ISR (empty on a single node, where it is this replica alone).
  std::vector<int32_t> isr() const EXCLUDES(replica_mu_);
  std::vector<int32_t> replicas() const EXCLUDES(replica_mu_);
  // How many replicas acknowledge acks=all writes now (1 on a single node).
  size_t isr_size() const EXCLUDES(replica_mu_);
  // On a leader: how far its slowest follower's log end (as its last fetch
  // reported it) trails this log's end, in offsets; a follower not heard
  // from in this leadership counts from the log start. 0 without followers.
  int64_t MaxFollowerLag() EXCLUDES(replica_mu_);
  // Whether acks=all must wait for followers (WhenCommitted) rather than
  // for this replica's flush alone.
  bool has_followers() const { return has_followers_.load(std::memory_order_acquire); }

  // The leader's side of a follower's fetch at `fetch_offset`: the
  // follower's progress is recorded and the high watermark may move
  // (waiters run on this thread). NotLeader when not leading; NotFound
  // when `replica_id` is not a replica of the partition.
  Status OnFollowerFetch(int32_t replica_id, int64_t fetch_offset, int64_t now_ms)
      EXCLUDES(replica_mu_);
  // ISR changes the leader should ask the controller for (replica_set.h);
  // nullopt when there is none or this replica does not lead.
  std::optional<std::vector<int32_t>> IsrToShrink(int64_t now_ms, int64_t max_lag_ms) const
      EXCLUDES(replica_mu_);
  std::optional<std::vector<int32_t>> IsrToExpand(int64_t now_ms, int64_t max_lag_ms)
      EXCLUDES(replica_mu_);
  // The ISR the controller recorded at `partition_epoch`; ignored when not
  // leading at `leader_epoch`. The high watermark may move (a smaller ISR).
  void ApplyIsr(int32_t leader_epoch, std::vector<int32_t> isr, int32_t partition_epoch,
                int64_t now_ms) EXCLUDES(replica_mu_);

  // acks=all on a partition with followers: `done` runs once the high
  // watermark reaches `offset` (OK, with the size of the ISR at that moment,
  // which the caller compares with min.insync.replicas as Kafka does:
  // NOT_ENOUGH_REPLICAS_AFTER_APPEND), or with NotLeader once this replica
  // stops leading, on the thread that moved it. Returns an id for
  // CancelCommitWaiter, or 0 when `done` already ran (on this thread).
  using CommitCallback = std::function<void(Status, size_t isr_size)>;
  uint64_t WhenCommitted(int64_t offset, CommitCallback done) EXCLUDES(replica_mu_);
  // True when the waiter was removed before it ran.
  bool CancelCommitWaiter(uint64_t id) EXCLUDES(replica_mu_);

  // A follower's append of one batch fetched from its leader at
  // `leader_epoch` (offsets and epochs kept; producer state follows).
  // Aborted when this replica has since become the leader or follows
  // another epoch: a fetch answered by a deposed leader must not land.
  Result<storage::AppendResult> AppendAsFollower(std::span<const uint8_t> batch,
                                                 int32_t leader_epoch);
  // A follower's truncation to where its history and its leader's agree
  // (KIP-101), under the same condition as AppendAsFollower.
  Status TruncateTo(int64_t offset, int32_t leader_epoch);
  // A follower whose log ends below its leader's log start: an empty log
  // starting at `offset` instead, producer state forgotten
  // (Log::TruncateFullyAndStartAt), under the same condition.
  Status TruncateFullyAndStartAt(int64_t offset, int32_t leader_epoch);
  // A follower learns its leader's high watermark from each fetch; its own
  // moves to it as far as it has the data durably.
  void SetLeaderHighWatermark(int64_t hw) EXCLUDES(replica_mu_);

 private:
  // Moves the high watermark as far as the role allows and runs what it
  // releases (commit waiters, then fetch waiters), outside the locks.
  void AdvanceHighWatermark() EXCLUDES(replica_mu_, waiters_mu_);
  int64_t TargetHighWatermarkLocked() REQUIRES(replica_mu_);
  // OK while this replica follows at `leader_epoch` (role changes take
  // append_mu_ too, so the answer holds until it is released).
  Status CheckFollowingLocked(int32_t leader_epoch) const REQUIRES(append_mu_);
  void RunWaiters() EXCLUDES(waiters_mu_);

  struct CommitWaiter {
    uint64_t id;
    CommitCallback done;
  };

  const storage::TopicPartition tp_;
  const TopicId topic_id_;
  const std::shared_ptr<storage::Log> log_;
  // Written under append_mu_ and replica_mu_ both; read without either.
  std::atomic<int32_t> leader_epoch_;
  std::atomic<bool> leader_{true};
  std::atomic<bool> has_followers_{false};

  Mutex append_mu_;
  ProducerStateTable producers_ GUARDED_BY(append_mu_);

  mutable Mutex replica_mu_ ACQUIRED_AFTER(append_mu_);
  int32_t leader_id_ GUARDED_BY(replica_mu_) = -1;
  int32_t partition_epoch_ GUARDED_BY(replica_mu_) = 0;
  ReplicaSet replica_set_ GUARDED_BY(replica_mu_);  // meaningful while leading
  int64_t leader_high_watermark_ GUARDED_BY(replica_mu_) = 0;  // while following
  uint64_t next_commit_waiter_id_ GUARDED_BY(replica_mu_) = 1;
  std::multimap<int64_t, CommitWaiter> commit_waiters_ GUARDED_BY(replica_mu_);

  Mutex waiters_mu_ ACQUIRED_AFTER(replica_mu_);
  uint64_t next_waiter_id_ GUARDED_BY(waiters_mu_) = 1;
  std::map<uint64_t, std::function<void()>> waiters_ GUARDED_BY(waiters_mu_);
};

}  // namespace sluice::cluster
