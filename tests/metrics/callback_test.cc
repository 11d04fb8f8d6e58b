#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace sluice::metrics {
namespace {

constexpr char kHeader[] = "# HELP leo Log end offset.\n# TYPE leo gauge\n";

TEST(CallbackTest, EvaluatedAtEachScrapeAndGoneAfterUnregistering) {
  MetricsRegistry registry(1);
  GaugeFamily& family = registry.AddGauge("leo", "Log end offset.", {"topic", "partition"});
  std::atomic<int64_t> offset{7};
  CallbackHandle a = family.AddCallback({"orders", "0"}, [&] { return double(offset.load()); });
  CallbackHandle b = family.AddCallback({"orders", "1"}, [] { return 3.0; });
  EXPECT_TRUE(a.registered());
  EXPECT_EQ(registry.Render(), std::string(kHeader) +
                                   "leo{topic=\"orders\",partition=\"0\"} 7\n"
                                   "leo{topic=\"orders\",partition=\"1\"} 3\n");
  offset = 42;
  a.Reset();
  EXPECT_FALSE(a.registered());
  EXPECT_EQ(registry.Render(), std::string(kHeader) + "leo{topic=\"orders\",partition=\"1\"} 3\n");
  { CallbackHandle gone = std::move(b); }
  EXPECT_FALSE(b.registered());  // NOLINT: checking the moved-from state.
  EXPECT_EQ(registry.Render(), kHeader);
}

TEST(CallbackTest, MoveAssignmentUnregistersTheOldCallback) {
  MetricsRegistry registry(1);
  GaugeFamily& family = registry.AddGauge("leo", "Log end offset.", {"topic", "partition"});
  CallbackHandle h = family.AddCallback({"t", "0"}, [] { return 1.0; });
  h = family.AddCallback({"t", "1"}, [] { return 2.0; });
  EXPECT_EQ(registry.Render(), std::string(kHeader) + "leo{topic=\"t\",partition=\"1\"} 2\n");
}

TEST(CallbackTest, NewestRegistrationWinsForTheSameLabels) {
  // A partition re-created before the old one's handle is destroyed.
  MetricsRegistry registry(1);
  GaugeFamily& family = registry.AddGauge("leo", "Log end offset.", {"topic", "partition"});
  family.WithLabels({"t", "0"}).Set(5);
  auto old_handle = std::make_unique<CallbackHandle>(family.AddCallback({"t", "0"}, [] { return 1.0; }));
  CallbackHandle new_handle = family.AddCallback({"t", "0"}, [] { return 2.0; });
  EXPECT_EQ(registry.Render(), std::string(kHeader) + "leo{topic=\"t\",partition=\"0\"} 2\n");
  old_handle.reset();
  EXPECT_EQ(registry.Render(), std::string(kHeader) + "leo{topic=\"t\",partition=\"0\"} 2\n");
  new_handle.Reset();  // The stored gauge shows again.
  EXPECT_EQ(registry.Render(), std::string(kHeader) + "leo{topic=\"t\",partition=\"0\"} 5\n");
}

TEST(CallbackTest, CounterCallbacks) {
  MetricsRegistry registry(1);
  CounterFamily& family = registry.AddCounter("x_total", "X.", {"k"});
  CallbackHandle h = family.AddCallback({"a"}, [] { return 12.0; });
  EXPECT_EQ(registry.Render(), "# HELP x_total X.\n# TYPE x_total counter\nx_total{k=\"a\"} 12\n");
}

TEST(CallbackTest, UnregisterWaitsForARunningCallback) {
  MetricsRegistry registry(1);
  GaugeFamily& family = registry.AddGauge("g", "G.", {"k"});
  std::atomic<bool> entered{false}, release{false}, reset_done{false};
  CallbackHandle h = family.AddCallback({"a"}, [&] {
    entered = true;
    while (!release) std::this_thread::yield();
    return 1.0;
  });
  std::thread scraper([&] { (void)registry.Render(); });
  while (!entered) std::this_thread::yield();
  std::thread owner([&] {
    h.Reset();
    reset_done = true;
  });
  // No event marks a Reset that correctly waits: a wrong one would return
  // within this window.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(reset_done) << "Reset returned while the callback was still running";
  release = true;
  owner.join();
  scraper.join();
  EXPECT_TRUE(reset_done);
}

TEST(CallbackTest, OwnersMayFreeStateRightAfterUnregistering) {
  // Partitions come and go while scrapes run; under ASan a callback reading
  // freed state would be reported.
  MetricsRegistry registry(2);
  GaugeFamily& family = registry.AddGauge("g", "G.", {"topic", "partition"});
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done) (void)registry.Render();
  });
  std::vector<std::thread> owners;
  for (int t = 0; t < 3; ++t) {
    owners.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto state = std::make_unique<std::atomic<int64_t>>(i);
        CallbackHandle h = family.AddCallback({std::to_string(t), std::to_string(i % 4)},
                                              [s = state.get()] { return double(s->load()); });
        h.Reset();
        state.reset();
      }
    });
  }
  for (auto& t : owners) t.join();
  done = true;
  scraper.join();
  EXPECT_EQ(registry.Render(), "# HELP g G.\n# TYPE g gauge\n");
}

}  // namespace
}  // namespace sluice::metrics
