#include "metrics/histogram.h"

#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

TEST(HistogramTest, ObservationsLandInTheFirstBucketAtOrAboveThem) {
  std::vector<double> bounds{1, 2, 4};
  Histogram h(bounds, 4);
  for (double v : {-1.0, 0.0, 1.0, 1.5, 2.0, 3.9, 4.0, 4.1, 1e300}) h.Observe(v);
  h.Observe(std::nan(""));  // Dropped.
  Histogram::Snapshot s = h.Collect();
  // <=1: -1 0 1; <=2: +1.5 2; <=4: +3.9 4; +Inf: +4.1 1e300.
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{3, 5, 7, 9}));
  EXPECT_EQ(s.count, 9u);
  EXPECT_DOUBLE_EQ(s.sum, -1 + 0 + 1 + 1.5 + 2 + 3.9 + 4 + 4.1 + 1e300);
}

TEST(HistogramTest, ManyBucketsSpanSeveralCacheLines) {
  std::vector<double> bounds = LinearBuckets(1, 1, 20);  // 1..20: 22 words per slot.
  Histogram h(bounds, 2);
  for (int v = 1; v <= 25; ++v) h.Observe(v);
  Histogram::Snapshot s = h.Collect();
  ASSERT_EQ(s.cumulative.size(), 21u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.cumulative[i], static_cast<uint64_t>(i + 1));
  EXPECT_EQ(s.count, 25u);
  EXPECT_DOUBLE_EQ(s.sum, 25 * 26 / 2);
}

TEST(HistogramTest, ObserveDurationIsInSeconds) {
  std::vector<double> bounds{0.001, 0.01};
  Histogram h(bounds, 1);
  h.ObserveDuration(std::chrono::microseconds(500));
  h.ObserveDuration(std::chrono::milliseconds(5));
  Histogram::Snapshot s = h.Collect();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 2, 2}));
  EXPECT_DOUBLE_EQ(s.sum, 0.0055);
}

TEST(HistogramTest, BucketHelpers) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(LinearBuckets(0.5, 1, 3), (std::vector<double>{0.5, 1.5, 2.5}));
  std::vector<double> latency = LatencyBuckets();
  ASSERT_EQ(latency.size(), 19u);
  EXPECT_DOUBLE_EQ(latency.front(), 0.00005);  // 0.05 ms
  EXPECT_GE(latency.back(), 10.0);             // Covers 10 s.
  for (size_t i = 1; i < latency.size(); ++i) EXPECT_DOUBLE_EQ(latency[i], 2 * latency[i - 1]);
}

}  // namespace
}  // namespace sluice::metrics
