#include "cluster/flusher.h"

namespace sluice::cluster {

Flusher::Flusher() : thread_([this] { Run(); }) {}

Flusher::~Flusher() { Stop(); }

void Flusher::MarkDirty(const std::shared_ptr<Partition>& partition) {
  std::lock_guard lock(mu_);
  auto& p = pending_[partition.get()];
  if (!p.partition) p.partition = partition;
  cv_.notify_one();
}

void Flusher::WhenDurable(const std::shared_ptr<Partition>& partition, int64_t end_offset,
                          std::function<void(Status)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      auto& p = pending_[partition.get()];
      if (!p.partition) p.partition = partition;
      p.waiters.push_back(Waiter{end_offset, std::move(done)});
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
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Flusher::Run() {
  for (;;) {
    std::unordered_map<Partition*, Pending> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty() && stopping_) return;
      batch.swap(pending_);
    }
    for (auto& [raw, p] : batch) {
      // Flush() covers everything appended before it starts, which includes
      // the data of every waiter registered before this round began.
      Status s = p.partition->log().Flush();
      if (s.ok()) p.partition->OnFlushed();
      for (Waiter& w : p.waiters) {
        if (!s.ok()) {
          w.done(s);
        } else if (p.partition->log().flushed_offset() >= w.end_offset) {
          w.done(Status::Ok());
        } else {
          w.done(Status::IOError("flush did not reach the requested offset"));
        }
      }
    }
  }
}

}  // namespace sluice::cluster
