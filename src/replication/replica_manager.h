// ReplicaManager: this broker's side of the controller's decisions about
// replicas (Kafka's ReplicaManager, ZooKeeper mode).
//
// LeaderAndIsr makes each listed partition hosted here (its log opened or
// created through PartitionManager::HostReplicas) and then its leader or a
// follower: a leader serves produce and fetch and keeps the ISR; a follower
// is handed to the ReplicaFetcher of its leader's broker (one thread per
// leader). StopReplica stops following and detaches (or deletes) the logs.
// A full LeaderAndIsr (the controller's first to this broker, or a new
// controller's) lists every partition the broker holds: logs on its disk
// for any other partition of a cluster topic are stray (deleted or moved
// while the broker was away, so it never got the StopReplica) and are
// deleted, as Kafka deletes stray logs.
// Both are fenced: a request from an older controller epoch than the newest
// seen is refused whole (STALE_CONTROLLER_EPOCH), and a partition change
// whose leader epoch is not newer than the one applied is ignored with that
// code for the partition, as Kafka does.
//
// ISR upkeep: a thread checks every led partition each
// `isr_check_interval` (half of replica.lag.time.max.ms, capped) for
// followers to drop (not caught up for replica.lag.time.max.ms) or to add
// (caught up to the high watermark and the leader's epoch), and asks the
// controller with AlterPartition (KIP-497) through `alter_partition`; the
// leader uses the new ISR only once the controller has written it.
//
// Threads: Apply* block on disk work and must run off the network shards
// (the API handlers queue them on one thread, in arrival order). Everything
// here is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "cluster/partition_manager.h"
#include "controller/controller_channel.h"
#include "protocol/error_code.h"
#include "replication/replica_fetcher.h"

namespace sluice::replication {

// A leader's request to change one partition's ISR, and the controller's answer.
struct IsrChange {
  std::string topic;
  int32_t partition = 0;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> new_isr;
};
struct IsrChangeResult {
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> isr;
};

struct ReplicaManagerOptions {
  int32_t broker_id = -1;
  // The name of the listener whose endpoint followers connect to on their
  // leader (inter.broker.listener.name; the first endpoint if absent).
  std::string listener_name;
  FetcherOptions fetcher;
  int64_t replica_lag_time_max_ms = 30000;  // replica.lag.time.max.ms
  std::chrono::milliseconds isr_check_interval{1000};
  // The topic's config overrides (/config/topics/<t>), read when a topic is
  // first hosted. Blocking.
  std::function<Result<std::map<std::string, std::string>>(const std::string& topic)>
      topic_configs;
  // Sends AlterPartition to the controller and returns its answer per
  // change (in order). Blocking. Unset: ISR changes are not proposed.
  std::function<Result<std::vector<IsrChangeResult>>(const std::vector<IsrChange>&)>
      alter_partition;
  // Milliseconds on the clock the fetch handler stamps follower progress
  // with (Partition::OnFollowerFetch).
  std::function<int64_t()> clock;
  // Told of every role change applied here, after BecomeLeader (true) or
  // BecomeFollower / StopReplica (false), on the thread applying the
  // request (the metadata thread) and outside this manager's lock, in the
  // order applied: the group coordinator loads and unloads the groups of
  // the __consumer_offsets partitions it leads. May block. Unset: nothing.
  std::function<void(const storage::TopicPartition& tp, bool is_leader, int32_t leader_epoch)>
      on_leadership;
};

struct PartitionResult {
  std::string topic;
  int32_t partition = 0;
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
};
// What this broker's replicas look like now (metrics, tests).
struct ReplicaStats {
  uint64_t leaders = 0;            // partitions this broker leads
  uint64_t under_replicated = 0;   // of those, with an ISR smaller than the replicas
  uint64_t followers = 0;          // partitions this broker follows
  uint64_t isr_shrinks = 0;        // ISR changes the controller accepted, since start
  uint64_t isr_expands = 0;
  // Over the partitions this broker leads, how far the slowest follower's
  // log end trails the leader's, in offsets (a follower not heard from
  // since this leadership began counts from the log start).
  uint64_t max_follower_lag = 0;
};

struct ApplyResult {
  protocol::ErrorCode error = protocol::ErrorCode::NONE;  // the whole request
  std::vector<PartitionResult> partitions;
};

class ReplicaManager {
 public:
  ReplicaManager(cluster::PartitionManager* partitions, ReplicaManagerOptions options);
  ~ReplicaManager();  // Shutdown()
  ReplicaManager(const ReplicaManager&) = delete;
  ReplicaManager& operator=(const ReplicaManager&) = delete;

  ApplyResult ApplyLeaderAndIsr(const controller::LeaderAndIsrRequest& request) EXCLUDES(mu_);
  ApplyResult ApplyStopReplica(const controller::StopReplicaRequest& request) EXCLUDES(mu_);

  // Runs one ISR check now (the thread's body; tests call it directly).
  void CheckIsr() EXCLUDES(mu_);

  ReplicaStats stats() const EXCLUDES(mu_);

  // The controller epoch of the newest request applied (-1: none yet).
  int32_t controller_epoch() const EXCLUDES(mu_);
  // The fetcher thread following `leader_id`, if any (tests, metrics).
  std::optional<FetcherStats> fetcher_stats(int32_t leader_id) const EXCLUDES(mu_);

  // This broker has left the cluster (shutdown, its registration gone): the
  // controller is electing other leaders for what it led, so each partition
  // led here stops leading now, as a LeaderAndIsr making it a follower of
  // no known leader would. Its acks=all waiters answer
  // NOT_LEADER_OR_FOLLOWER at once, instead of at their request's timeout
  // (their followers fetch from the new leader and never acknowledge them
  // here), and producers move to the new leader. Idempotent.
  void ResignLeadership() EXCLUDES(mu_);

  // Stops the fetchers and the ISR thread. Idempotent.
  void Shutdown() EXCLUDES(mu_);

 private:
  // Moves `tp` to the fetcher of `leader` (made if missing), or off every
  // fetcher when `leader` is null.
  void AssignFetcherLocked(const std::shared_ptr<cluster::Partition>& p,
                           const std::optional<LeaderEndpoint>& leader) REQUIRES(mu_);
  // Stops the fetchers left without partitions and moves them to retired_.
  void DropIdleFetchersLocked() REQUIRES(mu_);
  // Joins the retired fetchers (outside mu_).
  void ReapRetiredFetchers() EXCLUDES(mu_);
  std::optional<LeaderEndpoint> EndpointOf(const controller::LeaderAndIsrRequest& request,
                                           int32_t broker_id) const;
  void RunIsrThread() EXCLUDES(mu_);
  struct RoleChange {
    storage::TopicPartition tp;
    bool is_leader = false;
    int32_t leader_epoch = 0;
  };
  // Deletes the stray logs a full LeaderAndIsr reveals (the top of the
  // file); partitions that stop leading go to `changes`.
  void RemoveStrayLocked(const controller::LeaderAndIsrRequest& request,
                         std::vector<RoleChange>* changes) REQUIRES(mu_);
  // Stops serving `tp` here: off every fetcher, no longer led, its applied
  // epoch forgotten. If it was led, the lost leadership goes to `changes`
  // with `leader_epoch`, or the partition's own epoch when that is nullopt.
  void StopServingLocked(const storage::TopicPartition& tp, std::optional<int32_t> leader_epoch,
                         std::vector<RoleChange>* changes) REQUIRES(mu_);
  // Calls options_.on_leadership for each change, in order.
  void NotifyRoleChanges(const std::vector<RoleChange>& changes) EXCLUDES(mu_);

  cluster::PartitionManager* const partitions_;
  const ReplicaManagerOptions options_;

  mutable Mutex mu_;
  CondVar wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  int32_t controller_epoch_ GUARDED_BY(mu_) = -1;
  // The leader epoch applied per partition hosted here.
  std::map<storage::TopicPartition, int32_t> applied_epoch_ GUARDED_BY(mu_);
  // The partitions this broker leads (for the ISR checks).
  std::map<storage::TopicPartition, std::shared_ptr<cluster::Partition>> led_ GUARDED_BY(mu_);
  // Which fetcher each follower is on.
  std::map<storage::TopicPartition, int32_t> fetched_from_ GUARDED_BY(mu_);
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers_ GUARDED_BY(mu_);
  // Fetchers stopped because they were left without partitions, not joined
  // yet: a fetcher's thread may be syncing what it appended, which takes
  // milliseconds that a LeaderAndIsr must not wait for (the new leaders'
  // Metadata answers and the controller's UpdateMetadata wait for it). The
  // ISR thread and Shutdown join them.
  std::vector<std::unique_ptr<ReplicaFetcher>> retired_ GUARDED_BY(mu_);
  uint64_t isr_shrinks_ GUARDED_BY(mu_) = 0;
  uint64_t isr_expands_ GUARDED_BY(mu_) = 0;

  std::thread isr_thread_;  // last
};

}  // namespace sluice::replication
