// Flusher: the background threads that make appended data durable.
//
// Shard threads never call fdatasync. After an append they mark the
// partition dirty; a flusher thread syncs it (one fdatasync covers every
// append made before it: group commit), then moves the partition's high
// watermark and releases the acks=all producers whose data the sync covered.
// Under load the syncs run continuously and each one covers many requests,
// so their cost per message falls as load grows.
//
// Several threads sync different partitions at once: an fdatasync of an
// appended file waits for a filesystem journal commit, and concurrent ones
// share commits and overlap on the device (four partitions synced one after
// another took 3-5x as long as four at once on a busy disk, and no less on
// an idle one). One partition is synced by one thread at a time, so its high
// watermark only moves forward; dirty partitions are served in the order
// they became dirty, so none starves behind busier ones.
//
// When many partitions are dirty at once (writes spread over hundreds of
// partitions), one thread takes all of them and makes them durable with one
// syncfs of their file system (storage::Log::FlushTogether): one journal
// commit instead of one per partition, ~15x faster for 1 000 partitions on
// the disk we measured. It also flushes other writers' data on that file
// system, so the threshold is a setting (0 turns it off).
//
// After syncing a partition on its own, the thread preallocates its active
// segment if its syncs are small (storage::Log::PreallocateIfLatencyBound):
// an fdatasync that need not write the inode is a third cheaper.
//
// Threads are woken only for work they can take: a partition that became
// dirty while no thread syncs it, with a thread idle. A thread that finishes
// a sync takes the next job itself, and wakes one more only if work is left
// over. (Waking on every append cost ~25 context switches per fdatasync.)
//
// Thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "cluster/partition.h"
#include "base/mutex.h"

namespace sluice::cluster {

class Flusher {
 public:
  static constexpr int kDefaultSyncThreads = 4;

  // `group_min_partitions`: dirty partitions waiting at once from which they
  // are synced together; 0: never. `preallocate_bytes`: the zero-filled
  // chunk for latency-bound partitions; 0: none. (Their defaults are the
  // broker settings', in config/.)
  Flusher(int sync_threads, int group_min_partitions, uint64_t preallocate_bytes);
  ~Flusher();  // Stops and joins; pending callbacks get Aborted.
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // `partition` has unflushed data.
  void MarkDirty(const std::shared_ptr<Partition>& partition);

  // Runs `done` (on a flusher thread) once every offset below `end_offset`
  // of `partition` is durable, or with the error that prevented it.
  void WhenDurable(const std::shared_ptr<Partition>& partition, int64_t end_offset,
                   std::function<void(Status)> done);

  // Flushes what is pending, then stops the threads. Idempotent.
  void Stop();

  // Sync rounds that made several partitions durable together.
  uint64_t rounds_together() const { return rounds_together_.load(); }

 private:
  struct Waiter {
    int64_t end_offset;
    std::function<void(Status)> done;
  };
  struct Pending {
    std::shared_ptr<Partition> partition;
    std::vector<Waiter> waiters;
  };

  // The pending entry for `partition`, queued if new; sets *wake when an
  // idle thread should be woken to take it.
  Pending& PendingFor(const std::shared_ptr<Partition>& partition, bool* wake) REQUIRES(mu_);
  // Takes the oldest dirty partition no thread is syncing, or every such
  // partition when there are group_min_partitions_ or more; false if there
  // is none. *left_over: another thread could take a partition still pending.
  bool TakeNext(std::vector<Pending>* out, bool* left_over) REQUIRES(mu_);
  void Run() EXCLUDES(mu_);
  void Sync(std::vector<Pending>& jobs);
  // Runs a job's waiters once its partition's flush returned `s`.
  static void Finish(Pending& job, const Status& s);

  Mutex mu_;
  CondVar cv_;
  std::unordered_map<Partition*, Pending> pending_ GUARDED_BY(mu_);
  std::deque<Partition*> order_ GUARDED_BY(mu_);             // pending_'s keys, oldest first
  std::unordered_set<Partition*> syncing_ GUARDED_BY(mu_);  // taken by a thread right now
  int idle_threads_ GUARDED_BY(mu_) = 0;                     // waiting on cv_
  bool stopping_ GUARDED_BY(mu_) = false;
  const size_t group_min_partitions_;
  const uint64_t preallocate_bytes_;
  std::atomic<uint64_t> rounds_together_{0};
  std::vector<std::thread> threads_;
};

}  // namespace sluice::cluster
