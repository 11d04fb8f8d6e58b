// ReplicaSet: what a partition's leader knows about its replicas -- the
// assignment, the in-sync replicas (ISR) and each follower's progress -- and
// the rules of Kafka's ISR protocol that follow from it:
//
//   * A follower's fetch offset is its log end offset, and everything below
//     it is durable there: a follower fetches again only after syncing what
//     it appended (replication/replica_fetcher.h), so a replica in the ISR
//     holds every offset below the high watermark on disk.
//   * The high watermark may reach the smallest log end offset over the ISR
//     (the leader counting with its flushed offset): acks=all is answered
//     once it passes the batch.
//   * A follower is caught up when it fetched at the leader's log end offset,
//     or at the offset the leader's log ended at when it last fetched (Kafka's
//     lastCaughtUpTimeMs); one not caught up for replica.lag.time.max.ms
//     leaves the ISR. One outside it rejoins once it reaches the high
//     watermark and the start of the leader's current epoch.
//
// Not thread-safe: Partition guards it. Times are the caller's milliseconds
// (any monotonic clock), so tests pass them explicitly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace sluice::cluster {

class ReplicaSet {
 public:
  // A leadership: `replicas` (assignment order) and `isr` name this broker
  // (`local_id`) too. Followers in the ISR count as caught up at `now_ms`.
  void Reset(int32_t local_id, std::vector<int32_t> replicas, std::vector<int32_t> isr,
             int64_t now_ms);

  int32_t local_id() const { return local_id_; }
  const std::vector<int32_t>& replicas() const { return replicas_; }
  const std::vector<int32_t>& isr() const { return isr_; }
  bool IsReplica(int32_t id) const;
  bool InIsr(int32_t id) const;
  // Any replica besides this one: appends must wake fetching followers.
  bool has_followers() const { return replicas_.size() > 1; }

  // A follower fetched at `fetch_offset` while the leader's log ended at
  // `leader_leo`. REQUIRES: IsReplica(replica) and replica != local_id().
  void RecordFetch(int32_t replica, int64_t fetch_offset, int64_t leader_leo, int64_t now_ms);
  // The follower's log end offset as last reported; -1 before its first fetch.
  int64_t FollowerEndOffset(int32_t replica) const;

  // The highest offset the high watermark may reach: the minimum of
  // `local_durable` (the leader's flushed offset) and every other ISR
  // member's log end offset.
  int64_t CommittableOffset(int64_t local_durable) const;

  // The ISR with every follower not caught up for more than `max_lag_ms`
  // removed; nullopt when none is.
  std::optional<std::vector<int32_t>> IsrWithoutLagging(int64_t now_ms, int64_t max_lag_ms) const;
  // The ISR plus the followers outside it whose log end offset reached
  // both `high_watermark` and `epoch_start` (where the leader's current
  // epoch begins) and that fetched within the last `max_lag_ms`; nullopt
  // when there is none. The recency matters on an idle partition: a
  // follower that stopped (its broker shut down or died) stays at the high
  // watermark by offsets, and proposing it would have the controller refuse
  // the whole change (INELIGIBLE_REPLICA), keeping out the replicas that
  // did catch up (a reassignment's new ones).
  std::optional<std::vector<int32_t>> IsrWithCaughtUp(int64_t high_watermark, int64_t epoch_start,
                                                       int64_t now_ms, int64_t max_lag_ms) const;

  // The ISR as the controller recorded it (after an AlterPartition). A
  // member added counts as caught up now.
  void SetIsr(std::vector<int32_t> isr, int64_t now_ms);

 private:
  struct Progress {
    int64_t log_end_offset = -1;
    int64_t last_caught_up_ms = -1;
    int64_t last_fetch_ms = -1;
    int64_t leader_leo_at_last_fetch = -1;
  };

  int32_t local_id_ = -1;
  std::vector<int32_t> replicas_;
  std::vector<int32_t> isr_;
  std::map<int32_t, Progress> followers_;  // every replica but this one
};

}  // namespace sluice::cluster
