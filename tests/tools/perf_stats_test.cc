// Unit tests of the measurement pieces behind `sluice perf`: histogram
// precision and percentiles, pacing, payloads and the report formats.
#include "tools/perf_report.h"
#include "tools/perf_stats.h"

#include <limits>
#include <set>

#include <gtest/gtest.h>

namespace sluice::tools {
namespace {

TEST(LatencyHistogramTest, BucketsAreExactBelow256AndWithinOnePercentAbove) {
  for (int64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(v, LatencyHistogram::BucketUpperBound(LatencyHistogram::BucketOf(v)));
  }
  for (int64_t v : {256LL, 257LL, 1000LL, 4095LL, 65536LL, 999999LL, 123456789LL, 1LL << 40}) {
    int64_t upper = LatencyHistogram::BucketUpperBound(LatencyHistogram::BucketOf(v));
    EXPECT_GE(upper, v);
    EXPECT_LE(static_cast<double>(upper - v), 0.008 * static_cast<double>(v)) << v;
  }
  // Bucket indexes grow with the value.
  size_t previous = 0;
  for (int64_t v = 1; v < (1LL << 30); v = v * 3 / 2 + 1) {
    size_t b = LatencyHistogram::BucketOf(v);
    EXPECT_GE(b, previous);
    previous = b;
  }
}

TEST(LatencyHistogramTest, PercentilesOfAUniformSpread) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 10000; ++v) h.Record(v);
  EXPECT_EQ(10000u, h.count());
  EXPECT_NEAR(5000, h.Percentile(0.5), 5000 * 0.008);
  EXPECT_NEAR(9900, h.Percentile(0.99), 9900 * 0.008);
  EXPECT_NEAR(9990, h.Percentile(0.999), 9990 * 0.008);
  EXPECT_EQ(10000, h.Percentile(1.0));
  EXPECT_EQ(10000, h.max_us());
  EXPECT_DOUBLE_EQ(5000.5, h.mean_us());
}

TEST(LatencyHistogramTest, PercentileNeverExceedsTheMaximum) {
  LatencyHistogram h;
  h.Record(1000);
  EXPECT_EQ(1000, h.Percentile(0.5));
  EXPECT_EQ(1000, h.Percentile(0.999));
}

TEST(LatencyHistogramTest, EmptyNegativeMergeAndReset) {
  LatencyHistogram a, b;
  EXPECT_EQ(0, a.Percentile(0.99));
  a.Record(-5);  // A clock step backwards counts as 0.
  EXPECT_EQ(0, a.max_us());
  b.Record(300);
  a.Merge(b);
  EXPECT_EQ(2u, a.count());
  EXPECT_EQ(300, a.max_us());
  a.Reset();
  EXPECT_EQ(0u, a.count());
  EXPECT_EQ(0, a.Percentile(0.5));
}

TEST(SummarizeTest, ConvertsToMilliseconds) {
  LatencyHistogram h;
  h.Record(1500);
  LatencySummary s = Summarize(h);
  EXPECT_EQ(1u, s.count);
  EXPECT_NEAR(1.5, s.p50_ms, 0.015);
  EXPECT_DOUBLE_EQ(1.5, s.max_ms);
}

TEST(PacerTest, UnlimitedIsAlwaysDue) {
  Pacer p(0);
  EXPECT_EQ(1, p.Due(1000000, PerfClock::now()));
}

TEST(PacerTest, SpacesMessagesAndCatchesUp) {
  Pacer p(1000);  // One message per ms.
  PerfClock::time_point t0 = PerfClock::now();
  EXPECT_EQ(1, p.Due(0, t0));  // The first is due at once.
  EXPECT_EQ(0, p.Due(1, t0));
  EXPECT_NEAR(1e6, static_cast<double>((p.NextDue(1) - t0).count()), 1e3);  // ns
  // 10.5 ms later, messages 0..10 are due: 10 more after the first.
  EXPECT_EQ(10, p.Due(1, t0 + std::chrono::microseconds(10500)));
}

TEST(PayloadPoolTest, ValuesHaveTheSizeAndDifferNearby) {
  PayloadPool pool(100);
  std::set<std::string> seen;
  for (uint64_t i = 0; i < 1000; ++i) {
    std::string_view v = pool.Get(i);
    ASSERT_EQ(100u, v.size());
    for (char c : v) ASSERT_TRUE(c >= 'A' && c <= 'Z');
    seen.emplace(v);
  }
  EXPECT_EQ(1000u, seen.size());
  EXPECT_EQ(0u, PayloadPool(0).Get(7).size());
}

TEST(ThousandsTest, GroupsDigits) {
  EXPECT_EQ("0", Thousands(0));
  EXPECT_EQ("999", Thousands(999));
  EXPECT_EQ("1,000", Thousands(1000));
  EXPECT_EQ("12,345,678", Thousands(12345678));
}

TEST(PerfReportTest, JsonIsOneObjectAndTableHasLabels) {
  PerfReport r;
  r.Text("tool", "", "sluice perf produce");
  r.Text("topic", "topic", "a\"b");
  r.Int("messages", "messages", 1234567);
  r.Setting("linger_ms", "linger.ms", -1, "default");
  r.Real("msgs_per_s", "", std::numeric_limits<double>::infinity(), 1);  // Not finite: written as 0.
  r.Note("throughput", "fast");
  LatencyHistogram h;
  h.Record(2000);
  r.Latency("latency_ms", "latency", Summarize(h));
  EXPECT_EQ(
      "{\"tool\":\"sluice perf produce\",\"topic\":\"a\\\"b\",\"messages\":1234567,"
      "\"linger_ms\":-1,\"msgs_per_s\":0,\"latency_ms\":{\"p50\":2.000,\"p99\":2.000,"
      "\"p999\":2.000,\"max\":2.000,\"mean\":2.000,\"count\":1}}",
      r.Json());
  std::string table = r.Table();
  EXPECT_NE(std::string::npos, table.find("messages    1,234,567\n"));
  EXPECT_NE(std::string::npos, table.find("linger.ms   default\n"));
  EXPECT_NE(std::string::npos, table.find("throughput  fast\n"));
  EXPECT_EQ(std::string::npos, table.find("sluice perf produce"));
}

TEST(JsonStringTest, EscapesControlCharacters) {
  EXPECT_EQ("\"a\\\\b\\n\\u0001\"", JsonString("a\\b\n\x01"));
}

}  // namespace
}  // namespace sluice::tools
