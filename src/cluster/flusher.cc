#include "cluster/flusher.h"

#include <algorithm>
#include <limits>

namespace sluice::cluster {

Flusher::Flusher(int sync_threads, int group_min_partitions)
    : group_min_partitions_(group_min_partitions > 0 ? static_cast<size_t>(group_min_partitions)
                                                      : std::numeric_limits<size_t>::max()) {
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

bool Flusher::TakeNext(std::vector<Pending>* out) {
  // Together once group_min_partitions_ wait that no thread is syncing.
  bool together = false;
  size_t available = 0;
  const bool may_group = group_min_partitions_ <= order_.size();
  for (auto it = order_.begin(); may_group && it != order_.end() && !together; ++it) {
    together = syncing_.count(*it) == 0 && ++available >= group_min_partitions_;
  }
  for (auto it = order_.begin(); it != order_.end();) {
    if (syncing_.count(*it)) {
      ++it;
      continue;
    }
    auto entry = pending_.find(*it);
    out->push_back(std::move(entry->second));
    pending_.erase(entry);
    syncing_.insert(*it);
    it = order_.erase(it);
    if (!together) break;
  }
  return !out->empty();
}

void Flusher::Run() {
  for (;;) {
    std::vector<Pending> jobs;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return TakeNext(&jobs) || (stopping_ && pending_.empty()); });
      if (jobs.empty()) return;  // Stopping with nothing left.
    }
    Sync(jobs);
    std::lock_guard lock(mu_);
    for (const Pending& job : jobs) syncing_.erase(job.partition.get());
    // If a partition became dirty again meanwhile, a thread takes it on its
    // next turn; only stopping threads waiting on it need a wake-up.
    if (stopping_) cv_.notify_all();
  }
}

void Flusher::Sync(std::vector<Pending>& jobs) {
  // A flush covers everything appended before it starts, which includes the
  // data of every waiter registered before the job was taken.
  if (jobs.size() == 1) {
    Finish(jobs.front(), jobs.front().partition->log().Flush());
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
