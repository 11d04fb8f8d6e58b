// MetadataCache: what this broker knows of the whole cluster's topics, as
// the controller last told it (UpdateMetadata, and LeaderAndIsr for this
// broker's own replicas), so that any broker answers
// Metadata for every partition: its leader, leader epoch, replicas, ISR and
// offline replicas, wherever they are.
//
// Thread-safe and lock-free for readers: the state is an immutable snapshot
// behind an atomic pointer, replaced whole by Update (copy-on-write, as
// PartitionManager's topic map), so Metadata on a network shard never waits.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "cluster/topic_table.h"

namespace sluice::cluster {

struct PartitionMetadata {
  int32_t leader = -1;  // -1: no leader (offline)
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  bool operator==(const PartitionMetadata&) const = default;
};

struct TopicMetadata {
  TopicId id{};
  std::map<int32_t, PartitionMetadata> partitions;
};

struct MetadataSnapshot {
  int32_t controller_epoch = -1;
  // An UpdateMetadata was applied: the snapshot describes the whole
  // cluster. Before that (a broker just started or restarted) it knows at
  // most its own replicas, and a topic missing here may well exist.
  bool informed = false;
  std::map<std::string, TopicMetadata, std::less<>> topics;
};

// One partition's change in an UpdateMetadata.
struct PartitionUpdate {
  std::string topic;
  TopicId topic_id{};
  int32_t partition = 0;
  // kDeleted: the partition is gone (its topic too, with its last one).
  static constexpr int32_t kDeleted = -2;
  PartitionMetadata state;
};

class MetadataCache {
 public:
  MetadataCache();

  // Applies one UpdateMetadata. False (and nothing changes) when
  // `controller_epoch` is older than one applied before.
  bool Update(int32_t controller_epoch, const std::vector<PartitionUpdate>& partitions)
      EXCLUDES(update_mu_);

  // What a LeaderAndIsr this broker applied says of its partitions. Each
  // replaces the cached state only where its leader epoch is newer (an ISR
  // change at the same epoch comes with UpdateMetadata alone), keeping the
  // cached offline replicas (LeaderAndIsr carries none). The controller's
  // UpdateMetadata says the same moments later; without this, a client told
  // NOT_LEADER_OR_FOLLOWER by the old leader often asks a replica in that
  // moment, is sent back to the old leader, and (librdkafka) waits up to a
  // second before asking again. Waiters are not run: the UpdateMetadata
  // that follows runs them. False when `controller_epoch` is older than one
  // applied before.
  bool ApplyLeaderChanges(int32_t controller_epoch, const std::vector<PartitionUpdate>& partitions)
      EXCLUDES(update_mu_);

  std::shared_ptr<const MetadataSnapshot> Current() const {
    return snapshot_.load(std::memory_order_acquire);
  }

  // Runs `fn` once, on the thread of the next Update accepted (after its
  // snapshot is published), unless RemoveWaiter comes first: how
  // a request that waits for the controller's decisions (CreateTopics
  // waiting for its partitions' leaders) learns of them. `fn` must not call
  // back into this cache's waiter methods. Returns an id for RemoveWaiter.
  uint64_t AddWaiter(std::function<void()> fn) EXCLUDES(waiters_mu_);
  // False if the waiter already ran (or is running) or never existed.
  bool RemoveWaiter(uint64_t id) EXCLUDES(waiters_mu_);

 private:
  // Publishes `current` with `partitions` applied.
  void Apply(const MetadataSnapshot& current, int32_t controller_epoch,
             const std::vector<PartitionUpdate>& partitions) REQUIRES(update_mu_);

  Mutex update_mu_;  // serializes writers; readers never take it
  std::atomic<std::shared_ptr<const MetadataSnapshot>> snapshot_;
  Mutex waiters_mu_;
  uint64_t next_waiter_id_ GUARDED_BY(waiters_mu_) = 1;
  std::map<uint64_t, std::function<void()>> waiters_ GUARDED_BY(waiters_mu_);
};

}  // namespace sluice::cluster
