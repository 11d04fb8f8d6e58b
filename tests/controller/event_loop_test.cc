#include "controller/event_loop.h"

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

TEST(EventLoopTest, RunsEventsInPostOrderOnItsOwnThread) {
  EventLoop loop("test-loop");
  std::vector<int> seen;  // Touched only on the loop thread, read after Stop.
  std::atomic<bool> off_thread{false};
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(loop.Post([&, i] {
      if (!loop.OnLoopThread()) off_thread = true;
      seen.push_back(i);
    }));
  }
  loop.Stop();
  ASSERT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  EXPECT_FALSE(off_thread);
}

TEST(EventLoopTest, AnEventMayPostAnotherAndPostsAfterStopAreRefused) {
  EventLoop loop("test-loop");
  std::promise<void> second_ran;
  int ran = 0;
  ASSERT_TRUE(loop.Post([&] {
    ++ran;
    loop.Post([&] {
      ++ran;
      second_ran.set_value();
    });
  }));
  ASSERT_EQ(second_ran.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  loop.Stop();
  EXPECT_EQ(ran, 2);
  EXPECT_FALSE(loop.Post([&] { ++ran; }));
  loop.Stop();  // Idempotent.
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace sluice::controller
