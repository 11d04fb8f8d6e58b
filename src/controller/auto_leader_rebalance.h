// AutoLeaderRebalance: the clock of the automatic preferred-leader
// rebalance. While started (this broker is the active controller), it runs
// `check` on the controller's loop after `first_delay`, then every
// `interval` after the previous check ended (Kafka's controller does the
// same: 5 s after it takes over, then leader.imbalance.check.interval.seconds).
// What a check does is the owner's (ClusterMembership runs
// PartitionStateMachine::RebalancePreferredLeaders); keeping the timing
// apart lets a test drive it with ManualTimers instead of sleeping.
//
// Threads: Start, Stop and `check` run on `loop`'s thread; the timer only
// posts to the loop. A stop (or a new start) makes every check already
// scheduled or queued stale. Destroy it on the loop's thread or after the
// loop stopped; `timers` and `loop` must outlive it, and `timers` must not
// run callbacks after `loop` is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/timers.h"
#include "controller/event_loop.h"

namespace sluice::controller {

struct AutoLeaderRebalanceOptions {
  std::chrono::milliseconds first_delay{5000};
  std::chrono::milliseconds interval{300000};  // leader.imbalance.check.interval.seconds
};

class AutoLeaderRebalance {
 public:
  AutoLeaderRebalance(Timers* timers, EventLoop* loop, AutoLeaderRebalanceOptions options,
                      std::function<void()> check);
  ~AutoLeaderRebalance();  // Cancels the next check.
  AutoLeaderRebalance(const AutoLeaderRebalance&) = delete;
  AutoLeaderRebalance& operator=(const AutoLeaderRebalance&) = delete;

  // Schedules the first check after first_delay (the earlier schedule, if
  // any, is dropped). REQUIRES: on the loop.
  void Start();
  // No check runs until the next Start. REQUIRES: on the loop.
  void Stop();
  bool running() const { return running_; }

 private:
  // Schedules the check of the current generation after `delay`.
  void Arm(std::chrono::milliseconds delay);

  Timers* const timers_;
  EventLoop* const loop_;
  const AutoLeaderRebalanceOptions options_;
  const std::function<void()> check_;

  // Loop thread only.
  bool running_ = false;
  uint64_t generation_ = 0;  // bumped by Start and Stop: older checks are stale
  uint64_t timer_id_ = 0;    // the scheduled check, 0: none
  // Lets a check queued on the loop see that this object is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace sluice::controller
