#include "cluster/flusher.h"

#include <algorithm>

namespace sluice::cluster {

Flusher::Flusher(int sync_threads) {
  for (int i = 0; i < std::max(sync_threads, 1); ++i) threads_.emplace_back([this] { Run(); });
}

Flusher::~Flusher() { Stop(); }

Flusher::Pending& Flusher::PendingFor(const std::shared_ptr<Partition>& partition) {
  auto [it, inserted] = pending_.try_emplace(partition.get());
  if (inserted) {
    it->second.partition = partition;
    order_.push_back(partition.get());
  }
  return it->second;
}

void Flusher::MarkDirty(const std::shared_ptr<Partition>& partition) {
  std::lock_guard lock(mu_);
  PendingFor(partition);
  cv_.notify_one();
}

void Flusher::WhenDurable(const std::shared_ptr<Partition>& partition, int64_t end_offset,
                          std::function<void(Status)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      PendingFor(partition).waiters.push_back(Waiter{end_offset, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Status::Aborted("broker is shutting down"));
}

void Flusher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool Flusher::TakeNext(Pending* out) {
  // Only partitions being synced are skipped, so this looks at a handful.
  for (auto it = order_.begin(); it != order_.end(); ++it) {
    if (syncing_.count(*it)) continue;
    auto entry = pending_.find(*it);
    *out = std::move(entry->second);
    pending_.erase(entry);
    syncing_.insert(*it);
    order_.erase(it);
    return true;
  }
  return false;
}

void Flusher::Run() {
  for (;;) {
    Pending job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return TakeNext(&job) || (stopping_ && pending_.empty()); });
      if (!job.partition) return;  // Stopping with nothing left.
    }
    Sync(job);
    std::lock_guard lock(mu_);
    syncing_.erase(job.partition.get());
    // If the partition became dirty again meanwhile, this thread takes it on
    // its next turn; only stopping threads waiting on it need a wake-up.
    if (stopping_) cv_.notify_all();
  }
}

void Flusher::Sync(Pending& job) {
  // Flush() covers everything appended before it starts, which includes the
  // data of every waiter registered before the job was taken.
  Status s = job.partition->log().Flush();
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
