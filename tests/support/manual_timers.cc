#include "support/manual_timers.h"

#include <algorithm>

namespace sluice::testing {

uint64_t ManualTimers::Schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  const int64_t deadline = now_ms_ + std::max<int64_t>(0, delay.count());
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  deadlines_.emplace(id, deadline);
  return id;
}

bool ManualTimers::Cancel(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  deadlines_.erase(it);
  return true;
}

int64_t ManualTimers::NowMs() const {
  MutexLock lock(&mu_);
  return now_ms_;
}

size_t ManualTimers::AdvanceBy(std::chrono::milliseconds by) {
  MutexLock lock(&mu_);
  const int64_t target = now_ms_ + std::max<int64_t>(0, by.count());
  size_t ran = 0;
  while (!timers_.empty() && timers_.begin()->first.first <= target) {
    auto first = timers_.begin();
    now_ms_ = std::max(now_ms_, first->first.first);
    std::function<void()> fn = std::move(first->second);
    deadlines_.erase(first->first.second);
    timers_.erase(first);
    // Unlocked: the callback may schedule, cancel or read the clock.
    lock.Unlock();
    fn();
    ++ran;
    lock.Lock();
  }
  now_ms_ = target;
  return ran;
}

size_t ManualTimers::pending() const {
  MutexLock lock(&mu_);
  return timers_.size();
}

}  // namespace sluice::testing
