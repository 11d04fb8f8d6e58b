// AutoLeaderRebalance on ManualTimers: the checks' times are exact, and no
// test sleeps. The loop is a real EventLoop; Sync() waits until what the
// timers posted to it has run.
#include "controller/auto_leader_rebalance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "support/manual_timers.h"

namespace sluice::controller {
namespace {

using namespace std::chrono_literals;
using testing::ManualTimers;

class AutoLeaderRebalanceTest : public ::testing::Test {
 protected:
  void TearDown() override {
    OnLoop([&] { rebalance_.reset(); });
    loop_.Stop();
  }

  void Make(std::function<void()> extra = {}) {
    rebalance_ = std::make_unique<AutoLeaderRebalance>(
        &timers_, &loop_, AutoLeaderRebalanceOptions{.first_delay = 5s, .interval = 30s},
        [this, extra] {
          ++checks_;
          if (extra) extra();
        });
  }

  // Runs `f` on the loop and waits for it.
  void OnLoop(std::function<void()> f) {
    std::promise<void> done;
    loop_.Post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  // Moves the clock and waits until the checks it posted have run.
  void Advance(std::chrono::milliseconds by) {
    timers_.AdvanceBy(by);
    OnLoop([] {});
  }

  ManualTimers timers_;
  EventLoop loop_{"rebalance-test"};
  std::unique_ptr<AutoLeaderRebalance> rebalance_;
  std::atomic<int> checks_{0};
};

TEST_F(AutoLeaderRebalanceTest, FirstCheckAfterTheFirstDelayThenEveryInterval) {
  Make();
  OnLoop([&] { rebalance_->Start(); });
  Advance(4999ms);
  EXPECT_EQ(checks_, 0);
  Advance(1ms);
  EXPECT_EQ(checks_, 1);
  Advance(29999ms);
  EXPECT_EQ(checks_, 1);
  Advance(1ms);
  EXPECT_EQ(checks_, 2);
  Advance(30s);
  EXPECT_EQ(checks_, 3);
  EXPECT_EQ(timers_.pending(), 1u);  // One check scheduled at a time.
}

TEST_F(AutoLeaderRebalanceTest, AnIntervalShorterThanTheFirstDelayComesFirst) {
  rebalance_ = std::make_unique<AutoLeaderRebalance>(
      &timers_, &loop_, AutoLeaderRebalanceOptions{.first_delay = 5s, .interval = 1s},
      [this] { ++checks_; });
  OnLoop([&] { rebalance_->Start(); });
  Advance(1s);
  EXPECT_EQ(checks_, 1);
  Advance(1s);
  EXPECT_EQ(checks_, 2);
}

TEST_F(AutoLeaderRebalanceTest, StopEndsTheChecksAndStartBeginsAgain) {
  Make();
  OnLoop([&] { rebalance_->Start(); });
  Advance(5s);
  EXPECT_EQ(checks_, 1);
  OnLoop([&] { rebalance_->Stop(); });
  EXPECT_EQ(timers_.pending(), 0u);
  Advance(10min);
  EXPECT_EQ(checks_, 1);
  // Started again (elected again): the first delay again.
  OnLoop([&] { rebalance_->Start(); });
  Advance(5s);
  EXPECT_EQ(checks_, 2);
}

TEST_F(AutoLeaderRebalanceTest, ACheckAlreadyQueuedWhenStoppedDoesNotRun) {
  Make();
  OnLoop([&] { rebalance_->Start(); });
  // An event holds the loop while the timer fires, so the check is queued
  // behind it; the event then stops the schedule (as a resignation would).
  std::promise<void> blocked, release;
  loop_.Post([&] {
    blocked.set_value();
    release.get_future().wait();
    rebalance_->Stop();
  });
  blocked.get_future().wait();
  timers_.AdvanceBy(5s);
  release.set_value();
  OnLoop([] {});
  EXPECT_EQ(checks_, 0);
  Advance(10min);
  EXPECT_EQ(checks_, 0);
}

TEST_F(AutoLeaderRebalanceTest, ACheckThatStopsTheScheduleIsTheLast) {
  Make([&] { rebalance_->Stop(); });
  OnLoop([&] { rebalance_->Start(); });
  Advance(5s);
  EXPECT_EQ(checks_, 1);
  Advance(10min);
  EXPECT_EQ(checks_, 1);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(AutoLeaderRebalanceTest, DestroyedWithACheckScheduled) {
  Make();
  OnLoop([&] { rebalance_->Start(); });
  OnLoop([&] { rebalance_.reset(); });
  EXPECT_EQ(timers_.pending(), 0u);
  Advance(10min);
  EXPECT_EQ(checks_, 0);
}

}  // namespace
}  // namespace sluice::controller
