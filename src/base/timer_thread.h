// TimerThread: runs callbacks at deadlines on one background thread, on the
// steady clock (the broker's Timers; tests use ManualTimers instead).
//
// Used for timeouts that must not block a shard (a long-polling fetch's
// max_wait_ms, a produce's timeout). Callbacks must be short; they run on
// the timer thread, one at a time. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "base/mutex.h"
#include "base/timers.h"

namespace sluice {

class TimerThread final : public Timers {
 public:
  using Clock = std::chrono::steady_clock;

  TimerThread();
  ~TimerThread();  // Drops callbacks not yet due.
  TimerThread(const TimerThread&) = delete;
  TimerThread& operator=(const TimerThread&) = delete;

  // Schedules `fn` after `delay`; returns an id for Cancel.
  uint64_t Schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
  // True if the callback was removed before it ran.
  bool Cancel(uint64_t id) override;
  // Steady-clock milliseconds.
  int64_t NowMs() const override;

 private:
  void Run() EXCLUDES(mu_);

  Mutex mu_;
  CondVar cv_;
  // Keyed by (deadline, id) so equal deadlines keep their order.
  std::map<std::pair<Clock::time_point, uint64_t>, std::function<void()>> timers_ GUARDED_BY(mu_);
  std::map<uint64_t, Clock::time_point> deadlines_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice
