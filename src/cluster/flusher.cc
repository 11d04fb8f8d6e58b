#include "cluster/flusher.h"
#include "base/mutex.h"

#include <algorithm>
#include <limits>

namespace sluice::cluster {

Flusher::Flusher(int sync_threads, int group_min_partitions, uint64_t preallocate_bytes)
    : group_min_partitions_(group_min_partitions > 0 ? static_cast<size_t>(group_min_partitions)
                                                      : std::numeric_limits<size_t>::max()),
      preallocate_bytes_(preallocate_bytes) {
  for (int i = 0; i < std::max(sync_threads, 1); ++i) threads_.emplace_back([this] { Run(); });
}

Flusher::~Flusher() { Stop(); }

Flusher::Pending& Flusher::PendingFor(const std::shared_ptr<Partition>& partition, bool* wake) {
  auto [it, inserted] = pending_.try_emplace(partition.get());
  if (inserted) {
    it->second.partition = partition;
    order_.push_back(partition.get());
    // A partition being synced is taken again by a thread when that sync ends.
    *wake = idle_threads_ > 0 && syncing_.count(partition.get()) == 0;
  }
  return it->second;
}

void Flusher::MarkDirty(const std::shared_ptr<Partition>& partition) {
  bool wake = false;
  {
    MutexLock lock(&mu_);
    PendingFor(partition, &wake);
  }
  // Outside the lock, so the woken thread does not block on it at once.
  if (wake) cv_.Signal();
}

void Flusher::WhenDurable(const std::shared_ptr<Partition>& partition, int64_t end_offset,
                          std::function<void(Status)> done) {
  bool wake = false;
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      PendingFor(partition, &wake).waiters.push_back(Waiter{end_offset, std::move(done)});
      done = nullptr;
    }
  }
  if (wake) cv_.Signal();
  if (done) done(Status::Aborted("broker is shutting down"));
}

void Flusher::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.SignalAll();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool Flusher::TakeNext(std::vector<Pending>* out, bool* left_over) {
  // Together once group_min_partitions_ wait that no thread is syncing.
  bool together = false;
  size_t available = 0;
  const bool may_group = group_min_partitions_ <= order_.size();
  for (auto it = order_.begin(); may_group && it != order_.end() && !together; ++it) {
    together = syncing_.count(*it) == 0 && ++available >= group_min_partitions_;
  }
  *left_over = false;
  for (auto it = order_.begin(); it != order_.end();) {
    if (syncing_.count(*it)) {
      ++it;
      continue;
    }
    if (!out->empty() && !together) {
      *left_over = true;
      break;
    }
    auto entry = pending_.find(*it);
    out->push_back(std::move(entry->second));
    pending_.erase(entry);
    syncing_.insert(*it);
    it = order_.erase(it);
  }
  return !out->empty();
}

void Flusher::Run() {
  MutexLock lock(&mu_);
  for (;;) {
    std::vector<Pending> jobs;
    bool left_over = false;
    while (!TakeNext(&jobs, &left_over)) {
      if (stopping_ && pending_.empty()) return;
      ++idle_threads_;
      cv_.Wait(&mu_);
      --idle_threads_;
    }
    // Hand work this thread cannot take to an idle one.
    const bool wake = idle_threads_ > 0 && left_over;
    lock.Unlock();
    if (wake) cv_.Signal();
    Sync(jobs);
    lock.Lock();
    for (const Pending& job : jobs) syncing_.erase(job.partition.get());
    // Threads waiting to stop may have been waiting on these partitions.
    if (stopping_) cv_.SignalAll();
  }
}

void Flusher::Sync(std::vector<Pending>& jobs) {
  // A flush covers everything appended before it starts, which includes the
  // data of every waiter registered before the job was taken.
  if (jobs.size() == 1) {
    storage::Log& log = jobs.front().partition->log();
    Finish(jobs.front(), log.Flush());
    // After the waiters are answered. A failure is the log's own (a failed
    // sync marks it failed; a failed zero-fill leaves it as it was).
    (void)log.PreallocateIfLatencyBound(preallocate_bytes_);
    return;
  }
  ++rounds_together_;
  std::vector<storage::Log*> logs;
  for (Pending& job : jobs) logs.push_back(&job.partition->log());
  std::vector<Status> flushed = storage::Log::FlushTogether(logs);
  for (size_t i = 0; i < jobs.size(); ++i) Finish(jobs[i], flushed[i]);
}

void Flusher::Finish(Pending& job, const Status& s) {
  if (s.ok()) job.partition->OnFlushed();
  for (Waiter& w : job.waiters) {
    if (!s.ok()) {
      w.done(s);
    } else if (job.partition->log().flushed_offset() >= w.end_offset) {
      w.done(Status::Ok());
    } else {
      w.done(Status::IOError("flush did not reach the requested offset"));
    }
  }
}

}  // namespace sluice::cluster
