#include "cluster/metadata_worker.h"

#include <utility>

namespace sluice::cluster {

MetadataWorker::MetadataWorker() : thread_([this] { Run(); }) {}

MetadataWorker::~MetadataWorker() { Stop(); }

void MetadataWorker::Submit(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      wake_.Signal();
      return;
    }
  }
  task();
}

void MetadataWorker::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.Signal();
  if (thread_.joinable()) thread_.join();
}

void MetadataWorker::Run() {
  MutexLock lock(&mu_);
  while (true) {
    while (!stopping_ && queue_.empty()) wake_.Wait(&mu_);
    if (queue_.empty()) return;  // Stopping, and everything queued has run.
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.Unlock();
    task();
    task = nullptr;  // Whatever it holds (a request's responder) goes before the next wait.
    lock.Lock();
  }
}

}  // namespace sluice::cluster
