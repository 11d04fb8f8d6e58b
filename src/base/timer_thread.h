// TimerThread: runs callbacks at deadlines on one background thread.
//
// Used for timeouts that must not block a shard (a long-polling fetch's
// max_wait_ms, a produce's timeout). Callbacks must be short; they run on
// the timer thread, one at a time. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace sluice {

class TimerThread {
 public:
  using Clock = std::chrono::steady_clock;

  TimerThread();
  ~TimerThread();  // Drops callbacks not yet due.
  TimerThread(const TimerThread&) = delete;
  TimerThread& operator=(const TimerThread&) = delete;

  // Schedules `fn` after `delay`; returns an id for Cancel.
  uint64_t Schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  // True if the callback was removed before it ran.
  bool Cancel(uint64_t id);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  // Keyed by (deadline, id) so equal deadlines keep their order.
  std::map<std::pair<Clock::time_point, uint64_t>, std::function<void()>> timers_;
  std::map<uint64_t, Clock::time_point> deadlines_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice
