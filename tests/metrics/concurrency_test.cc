// Updates from several threads at once, with scrapes running alongside:
// totals must come out exact (no lost updates).
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace sluice::metrics {
namespace {

constexpr int kThreads = 4;
constexpr int kPerThread = 100000;

TEST(ConcurrencyTest, CounterIncrementsSumExactly) {
  for (uint32_t slots : {1u, 2u, 8u}) {  // Shared and private cells.
    MetricsRegistry registry(slots);
    Counter& counter = registry.AddCounter("c_total", "C.", {"api"}).WithLabels({"Produce"});
    std::atomic<bool> done{false};
    std::thread scraper([&] {
      while (!done) EXPECT_FALSE(registry.Render().empty());
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        if (t % 2 == 0) BindThisThreadToSlot(t);  // Bound and round-robin threads.
        for (int i = 0; i < kPerThread; ++i) counter.Increment();
      });
    }
    for (auto& t : threads) t.join();
    done = true;
    scraper.join();
    EXPECT_EQ(counter.Value(), uint64_t{kThreads} * kPerThread) << "slots=" << slots;
  }
}

TEST(ConcurrencyTest, NonPowerOfTwoSlotCountsAreRoundedUp) {
  Counter counter(3);
  std::vector<double> bounds{1};
  Histogram histogram(bounds, 3);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      BindThisThreadToSlot(t);  // Slot 3 must land in a cell that exists.
      counter.Increment();
      histogram.Observe(2);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.Value(), 4u);
  EXPECT_EQ(histogram.Collect().count, 4u);
}

TEST(ConcurrencyTest, HistogramObservationsSumExactly) {
  MetricsRegistry registry(2);  // Fewer cells than threads: cells are shared.
  Histogram& h = registry.AddHistogram("h", "H.", {}, {1, 10}).Get();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) h.Observe(i % 3 == 0 ? 0.5 : 5);  // Exact in binary.
    });
  }
  for (auto& t : threads) t.join();
  Histogram::Snapshot s = h.Collect();
  uint64_t small = kThreads * ((kPerThread + 2) / 3);
  uint64_t total = uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{small, total, total}));
  EXPECT_DOUBLE_EQ(s.sum, 0.5 * small + 5.0 * (total - small));
}

TEST(ConcurrencyTest, GaugeAddsSumExactly) {
  MetricsRegistry registry(1);
  Gauge& g = registry.AddGauge("g", "G.").Get();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        g.Increment();
        if (i % 2) g.Decrement();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(g.Value(), kThreads * kPerThread / 2);
}

TEST(ConcurrencyTest, RegistrationRacesWithScrapes) {
  MetricsRegistry registry(2);
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done) (void)registry.Render();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        registry.AddCounter("c" + std::to_string(i % 20) + "_total", "C.", {"t"})
            .WithLabels({std::to_string(t)})
            .Increment();
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(registry.AddCounter("c0_total", "C.", {"t"}).WithLabels({std::to_string(t)}).Value(),
              10u);
  }
}

}  // namespace
}  // namespace sluice::metrics
