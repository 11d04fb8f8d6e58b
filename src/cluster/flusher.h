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
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "cluster/partition.h"

namespace sluice::cluster {

class Flusher {
 public:
  static constexpr int kDefaultSyncThreads = 4;

  explicit Flusher(int sync_threads = kDefaultSyncThreads);
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

 private:
  struct Waiter {
    int64_t end_offset;
    std::function<void(Status)> done;
  };
  struct Pending {
    std::shared_ptr<Partition> partition;
    std::vector<Waiter> waiters;
  };

  // REQUIRES: mu_ held. The pending entry for `partition`, queued if new.
  Pending& PendingFor(const std::shared_ptr<Partition>& partition);
  // REQUIRES: mu_ held. Takes the oldest dirty partition no thread is
  // syncing; false if there is none.
  bool TakeNext(Pending* out);
  void Run();
  static void Sync(Pending& job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Partition*, Pending> pending_;
  std::deque<Partition*> order_;             // pending_'s keys, oldest first
  std::unordered_set<Partition*> syncing_;  // taken by a thread right now
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::cluster
