// ReplicaFetcher: one thread that keeps this broker's follower replicas of
// one leader broker's partitions up to date, as Kafka's replica fetcher
// threads do.
//
// Each round, on its own connection to the leader:
//   1. Partitions new to the fetcher (or to a new leader epoch) first find
//      where their history and the leader's agree (KIP-101, KIP-279): an
//      OffsetForLeaderEpoch for the newest epoch in the follower's log,
//      then a truncation to min(the leader's end offset for it, the
//      follower's own end of that epoch). Only then do they fetch, so logs
//      never diverge.
//   2. One Fetch for all of them (replica id = this broker, fetch offset =
//      each log's end), waiting up to replica.fetch.wait.max.ms for data.
//   3. The batches are appended with the leader's offsets and epochs, the
//      logs synced, and only then is the next fetch sent: a follower's fetch
//      offset tells the leader how far it has the data durably, which is
//      what acks=all counts on (cluster/replica_set.h). Each follower's high
//      watermark follows the leader's.
// A follower whose log ends below the leader's log start (it was away while
// the leader's retention deleted what it would fetch next) gets
// OFFSET_OUT_OF_RANGE: it empties its log, starts it at the leader's log
// start and fetches from there (Partition::TruncateFullyAndStartAt).
//
// A partition the leader refuses (not leader, fenced or unknown epoch) is
// left out of this fetcher's requests for a while, as Kafka delays a
// partition in error, while the others go on: 10 ms at first, doubling on
// each further refusal up to replica.fetch.backoff.ms. Right after a leader
// change most refusals last only until the leader, or this follower, has
// applied its LeaderAndIsr; an Add at the new epoch ends the wait. A lost
// connection is retried after replica.fetch.backoff.ms.
//
// A partition added (or re-added at a new leader epoch) while a fetch waits
// at the leader cuts that fetch short: its connection is dropped and made
// again at once. Otherwise, after a leader change, the new leader's first
// acks=all writes would wait out an idle long poll (up to
// replica.fetch.wait.max.ms) for the partitions this fetcher already
// followed before the follower asked for the moved one.
//
// Thread-safe. Add and Remove may be called from any thread; an append
// checks the partition still follows the epoch the fetch was made for
// (Partition::AppendAsFollower), so a reply from a deposed leader never lands.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "cluster/partition.h"
#include "replication/replication_quota.h"
#include "rpc/shutdown_signal.h"
#include "storage/log_manager.h"

namespace sluice::replication {

struct LeaderEndpoint {
  int32_t id = -1;
  std::string host;
  int32_t port = -1;
  bool operator==(const LeaderEndpoint&) const = default;
};

struct FetcherOptions {
  int32_t local_id = -1;                    // broker.id: the fetch's replica id
  int32_t max_wait_ms = 500;                // replica.fetch.wait.max.ms
  int32_t min_bytes = 1;                    // replica.fetch.min.bytes
  int32_t response_max_bytes = 10 << 20;    // replica.fetch.response.max.bytes
  int32_t partition_max_bytes = 1 << 20;    // replica.fetch.max.bytes
  std::chrono::milliseconds backoff{1000};  // replica.fetch.backoff.ms
  std::chrono::milliseconds socket_timeout{30000};  // replica.socket.timeout.ms
  // sluice.log.flush.group.min.partitions: from this many logs appended in
  // one round, one syncfs makes them durable together; below it (or at 0,
  // never together) each gets its own fdatasync. syncfs also writes back
  // whatever else is dirty on the file system (other processes' files), so
  // for a few partitions it costs far more than their own syncs on a disk
  // shared with other writers.
  int32_t sync_together_min_partitions = 8;
  // follower.replication.throttled.rate, shared by all of this broker's
  // fetchers; null: nothing is throttled. A partition whose topic's
  // follower.replication.throttled.replicas names this broker's replica
  // (`throttled`) and that is not caught up with its leader is left out of
  // the fetches while the quota is exceeded, and what is fetched for it
  // counts against the quota (Kafka's follower replication quota).
  std::shared_ptr<ReplicationQuota> quota;
  std::function<bool(const storage::TopicPartition&)> throttled;
};

// What a fetcher has done, for tests and metrics.
struct FetcherStats {
  uint64_t rounds = 0;             // fetch responses handled
  uint64_t batches_appended = 0;
  uint64_t truncations = 0;        // partitions whose log was cut
  uint64_t connection_failures = 0;
};

class ReplicaFetcher {
 public:
  ReplicaFetcher(LeaderEndpoint leader, FetcherOptions options);
  ~ReplicaFetcher();  // Shutdown()
  ReplicaFetcher(const ReplicaFetcher&) = delete;
  ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

  const LeaderEndpoint& leader() const { return leader_; }

  // Follows `partition` (already BecomeFollower of this leader) from now
  // on; it is reconciled with the leader (step 1) before it fetches.
  // Replaces an entry for the same partition.
  void Add(std::shared_ptr<cluster::Partition> partition) EXCLUDES(mu_);
  // Stops following it; an answer in flight for it is dropped.
  void Remove(const storage::TopicPartition& tp) EXCLUDES(mu_);
  size_t partition_count() const EXCLUDES(mu_);
  FetcherStats stats() const EXCLUDES(mu_);

  // Stops the thread (a call in flight returns at once). Idempotent.
  void Shutdown() EXCLUDES(mu_);
  // Asks the thread to stop, as Shutdown, without waiting for it: a sync of
  // appended data it is in finishes first. Shutdown (or the destructor)
  // still joins it.
  void Stop() EXCLUDES(mu_);

 private:
  using Clock = std::chrono::steady_clock;
  struct Follower {
    std::shared_ptr<cluster::Partition> partition;
    int32_t leader_epoch = 0;  // the epoch the partition followed when added
    bool reconciled = false;   // step 1 done for this epoch
    int refusals = 0;          // by the leader, in a row
    Clock::time_point retry_at{};  // refused: not asked for before then
    // The last answer left this replica at the leader's high watermark or
    // beyond: in sync as far as the throttle goes (Kafka's fetch lag of 0).
    bool caught_up = false;
  };
  using FollowerMap = std::map<storage::TopicPartition, Follower>;

  void Run() EXCLUDES(mu_);
  // The partitions to work on now, or empty after a wait for Add/Shutdown.
  FollowerMap Snapshot() EXCLUDES(mu_);
  // Waits `d` or until Shutdown; false when shut down.
  bool Backoff(std::chrono::milliseconds d) EXCLUDES(mu_);
  // Waits until `deadline`, an Add that changes what to fetch, or Shutdown;
  // false when shut down.
  bool WaitForChange(Clock::time_point deadline) EXCLUDES(mu_);
  // The leader refused these partitions (at these epochs): delay them, and
  // return when the first of them may be asked for again. Or answered
  // them: forget their refusals.
  Clock::time_point Refused(
      const std::vector<std::pair<storage::TopicPartition, int32_t>>& refused) EXCLUDES(mu_);
  void Answered(const std::vector<storage::TopicPartition>& answered) EXCLUDES(mu_);
  bool stopping() const EXCLUDES(mu_);
  void MarkReconciled(const storage::TopicPartition& tp, int32_t epoch) EXCLUDES(mu_);
  void Count(uint64_t FetcherStats::*field, uint64_t n = 1) EXCLUDES(mu_);

  // Makes the signal of the next connection (and its connect) current, so
  // that Shutdown and Add can reach it; null when stopping (or eventfd
  // failed).
  std::shared_ptr<rpc::ShutdownSignal> NewConnectionSignal() EXCLUDES(mu_);
  // Around the fetch call: whether Add cut it short meanwhile.
  void FetchStarts() EXCLUDES(mu_);
  bool FetchEndedCutShort() EXCLUDES(mu_);

  const LeaderEndpoint leader_;
  const FetcherOptions options_;

  mutable Mutex mu_;
  CondVar changed_;
  bool stop_ GUARDED_BY(mu_) = false;
  // The current connection's signal: Shutdown fires it, and so does Add
  // while a fetch is in flight (`cut_short_` then says why the call ended).
  std::shared_ptr<rpc::ShutdownSignal> signal_ GUARDED_BY(mu_);
  bool fetch_in_flight_ GUARDED_BY(mu_) = false;
  uint64_t changes_ GUARDED_BY(mu_) = 0;  // Adds that changed what to fetch
  bool cut_short_ GUARDED_BY(mu_) = false;
  FollowerMap followers_ GUARDED_BY(mu_);
  FetcherStats stats_ GUARDED_BY(mu_);

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace sluice::replication
