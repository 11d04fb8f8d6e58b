// ManualTimers: Timers on a clock that moves only when a test says so.
//
// Code with timeouts (sessions, rebalance deadlines, periodic checks) is
// tested by moving time instead of sleeping through it: AdvanceBy runs
// every callback that falls due, on the calling thread, in deadline order
// (equal deadlines in scheduling order), with the clock standing at each
// callback's deadline while it runs. A callback that schedules another
// (a timer re-arming itself) sees that one run in the same call if it falls
// due within it, exactly as on real time.
//
// Thread-safe: other threads may Schedule and Cancel at any time (the code
// under test schedules from its own threads too).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "base/mutex.h"
#include "base/timers.h"

namespace sluice::testing {

class ManualTimers final : public Timers {
 public:
  explicit ManualTimers(int64_t start_ms = 1'000'000) : now_ms_(start_ms) {}
  ManualTimers(const ManualTimers&) = delete;
  ManualTimers& operator=(const ManualTimers&) = delete;

  uint64_t Schedule(std::chrono::milliseconds delay, std::function<void()> fn) override
      EXCLUDES(mu_);
  bool Cancel(uint64_t id) override EXCLUDES(mu_);
  int64_t NowMs() const override EXCLUDES(mu_);

  // Moves the clock `by` forward, running what falls due (AdvanceBy(0ms)
  // runs what is due already). Returns how many callbacks ran.
  // REQUIRES: by >= 0; not called from a callback, nor by two threads at once.
  size_t AdvanceBy(std::chrono::milliseconds by) EXCLUDES(mu_);

  // Callbacks neither run nor cancelled yet.
  size_t pending() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  int64_t now_ms_ GUARDED_BY(mu_);
  // Keyed by (deadline, id) so equal deadlines keep their order.
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> timers_ GUARDED_BY(mu_);
  std::map<uint64_t, int64_t> deadlines_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
};

}  // namespace sluice::testing
