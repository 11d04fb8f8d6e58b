// MetadataWorker: one thread that runs metadata changes (topic creation and
// deletion, new partitions, config changes) one after another, in the order
// they were submitted.
//
// Why: a change syncs the topic table and creates or removes partition
// directories, which takes milliseconds to seconds; run on a network shard,
// it would hold up every other connection of that shard. The API handlers
// submit the change and answer the request from here when it is done, as
// acks=all produces are answered from the flusher.
//
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <thread>

#include "base/mutex.h"

namespace sluice::cluster {

class MetadataWorker {
 public:
  MetadataWorker();
  ~MetadataWorker();  // Stop()
  MetadataWorker(const MetadataWorker&) = delete;
  MetadataWorker& operator=(const MetadataWorker&) = delete;

  // Queues `task`; it runs on the worker thread after every task submitted
  // before it. Once Stop() has begun, runs it at once on the caller's thread
  // (a request that arrives during shutdown still gets its answer).
  void Submit(std::function<void()> task);
  // Runs every queued task, then joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  Mutex mu_;
  CondVar wake_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: started once the members above exist.
};

}  // namespace sluice::cluster
