#include "broker/stop_signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

namespace sluice::broker {
namespace {

TEST(StopSignalsTest, ASignalWhileServingIsKeptUntilAwaited) {
  auto signals = StopSignals::Start();
  ASSERT_TRUE(signals.ok()) << signals.status().ToString();
  (*signals)->Serving();
  ASSERT_EQ(0, kill(getpid(), SIGTERM));
  EXPECT_EQ(SIGTERM, (*signals)->Await());
  ASSERT_EQ(0, kill(getpid(), SIGINT));
  EXPECT_EQ(SIGINT, (*signals)->Await());
}

TEST(StopSignalsTest, AHandlerTakesTheSignalsWhileItIsSet) {
  auto signals = StopSignals::Start();
  ASSERT_TRUE(signals.ok()) << signals.status().ToString();
  (*signals)->Serving();
  std::promise<int> handled;
  (*signals)->OnSignal([&handled](int signal_number) { handled.set_value(signal_number); });
  ASSERT_EQ(0, kill(getpid(), SIGINT));
  EXPECT_EQ(SIGINT, handled.get_future().get());
  (*signals)->OnSignal(nullptr);
  ASSERT_EQ(0, kill(getpid(), SIGTERM));
  EXPECT_EQ(SIGTERM, (*signals)->Await());
}

TEST(StopSignalsTest, ASignalWhileStartingEndsTheProcessAsTheDefaultActionWould) {
  EXPECT_EXIT(
      {
        auto signals = StopSignals::Start();
        if (!signals.ok()) _exit(1);
        kill(getpid(), SIGTERM);
        // The reading thread ends the process; this one only waits for it.
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

}  // namespace
}  // namespace sluice::broker
