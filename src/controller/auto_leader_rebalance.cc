#include "controller/auto_leader_rebalance.h"

#include <algorithm>
#include <utility>

namespace sluice::controller {

AutoLeaderRebalance::AutoLeaderRebalance(Timers* timers, EventLoop* loop,
                                         AutoLeaderRebalanceOptions options,
                                         std::function<void()> check)
    : timers_(timers), loop_(loop), options_(options), check_(std::move(check)) {}

AutoLeaderRebalance::~AutoLeaderRebalance() {
  if (timer_id_ != 0) timers_->Cancel(timer_id_);
}

void AutoLeaderRebalance::Start() {
  Stop();
  running_ = true;
  Arm(std::min(options_.first_delay, options_.interval));
}

void AutoLeaderRebalance::Stop() {
  ++generation_;
  running_ = false;
  if (timer_id_ != 0) timers_->Cancel(timer_id_);
  timer_id_ = 0;
}

void AutoLeaderRebalance::Arm(std::chrono::milliseconds delay) {
  EventLoop* loop = loop_;
  std::weak_ptr<int> alive = alive_;
  const uint64_t generation = generation_;
  // The timer's thread only posts; everything else happens on the loop.
  timer_id_ = timers_->Schedule(delay, [this, loop, alive, generation] {
    loop->Post([this, alive, generation] {
      if (alive.expired() || generation != generation_ || !running_) return;
      timer_id_ = 0;
      check_();
      // The check may have stopped (or restarted) the schedule itself.
      if (running_ && generation == generation_) Arm(options_.interval);
    });
  });
}

}  // namespace sluice::controller
