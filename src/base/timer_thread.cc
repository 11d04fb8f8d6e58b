#include "base/timer_thread.h"

namespace sluice {

TimerThread::TimerThread() : thread_([this] { Run(); }) {}

TimerThread::~TimerThread() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.Signal();
  thread_.join();
}

uint64_t TimerThread::Schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  const auto deadline = Clock::now() + delay;
  const bool earliest = timers_.empty() || deadline < timers_.begin()->first.first;
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  deadlines_.emplace(id, deadline);
  if (earliest) cv_.Signal();
  return id;
}

bool TimerThread::Cancel(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  deadlines_.erase(it);
  return true;
}

int64_t TimerThread::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

void TimerThread::Run() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    auto first = timers_.begin();
    // A copy: Cancel() may erase this entry while we wait on it.
    const Clock::time_point deadline = first->first.first;
    if (deadline > Clock::now()) {
      cv_.WaitUntil(&mu_, deadline);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    deadlines_.erase(first->first.second);
    timers_.erase(first);
    lock.Unlock();
    fn();
    lock.Lock();
  }
}

}  // namespace sluice
