// Flusher: the background thread that makes appended data durable.
//
// Shard threads never call fdatasync. After an append they mark the
// partition dirty; the flusher syncs every dirty partition back to back (one
// fdatasync covers every append made before it: group commit), then moves
// each partition's high watermark and releases the acks=all producers whose
// data the sync covered. Under load the syncs run continuously and each one
// covers many requests, so their cost per message falls as load grows.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "cluster/partition.h"

namespace sluice::cluster {

class Flusher {
 public:
  Flusher();
  ~Flusher();  // Stops and joins; pending callbacks get Aborted.
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // `partition` has unflushed data.
  void MarkDirty(const std::shared_ptr<Partition>& partition);

  // Runs `done` (on the flusher thread) once every offset below `end_offset`
  // of `partition` is durable, or with the error that prevented it.
  void WhenDurable(const std::shared_ptr<Partition>& partition, int64_t end_offset,
                   std::function<void(Status)> done);

  // Flushes what is pending, then stops the thread. Idempotent.
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

  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Partition*, Pending> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::cluster
