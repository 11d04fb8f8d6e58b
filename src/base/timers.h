// Timers: callbacks run at deadlines on a monotonic clock, behind one
// interface so that code with timeouts (the group coordinator's sessions and
// rebalances) runs on real time in the broker (TimerThread) and on time a
// test moves by hand (ManualTimers), without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace sluice {

class Timers {
 public:
  virtual ~Timers() = default;

  // Schedules `fn` after `delay`; returns an id for Cancel. Thread-safe.
  virtual uint64_t Schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // True if the callback was removed before it ran. Thread-safe.
  virtual bool Cancel(uint64_t id) = 0;
  // Milliseconds on the clock deadlines are measured against: monotonic,
  // with an arbitrary origin (never compare it with wall-clock time).
  virtual int64_t NowMs() const = 0;
};

}  // namespace sluice
