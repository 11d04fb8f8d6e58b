#include "metrics/exposition.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace sluice::metrics {
namespace {

TEST(ExpositionTest, ExactTextForSmallRegistry) {
  MetricsRegistry registry(1);
  CounterFamily& requests = registry.AddCounter("sluice_requests_total", "Requests.", {"api"});
  requests.WithLabels({"Produce"}).Increment(3);
  requests.WithLabels({"Fetch"}).Increment();
  registry.AddGauge("sluice_connections", "Open\nconnections \\ now.").Get().Set(2);
  Histogram& latency =
      registry.AddHistogram("sluice_latency_seconds", "Latency.", {"api"}, {0.001, 0.5})
          .WithLabels({"Fetch"});
  latency.Observe(0.001);  // On a bound: counts in that bucket (le is <=).
  latency.Observe(0.25);
  latency.Observe(7);

  EXPECT_EQ(registry.Render(),
            "# HELP sluice_requests_total Requests.\n"
            "# TYPE sluice_requests_total counter\n"
            "sluice_requests_total{api=\"Fetch\"} 1\n"
            "sluice_requests_total{api=\"Produce\"} 3\n"
            "# HELP sluice_connections Open\\nconnections \\\\ now.\n"
            "# TYPE sluice_connections gauge\n"
            "sluice_connections 2\n"
            "# HELP sluice_latency_seconds Latency.\n"
            "# TYPE sluice_latency_seconds histogram\n"
            "sluice_latency_seconds_bucket{api=\"Fetch\",le=\"0.001\"} 1\n"
            "sluice_latency_seconds_bucket{api=\"Fetch\",le=\"0.5\"} 2\n"
            "sluice_latency_seconds_bucket{api=\"Fetch\",le=\"+Inf\"} 3\n"
            "sluice_latency_seconds_sum{api=\"Fetch\"} 7.251\n"
            "sluice_latency_seconds_count{api=\"Fetch\"} 3\n");
}

TEST(ExpositionTest, UnlabeledFamiliesShowZeroBeforeFirstUpdate) {
  MetricsRegistry registry(1);
  registry.AddCounter("a_total", "A.");
  registry.AddHistogram("h", "H.", {}, {1});
  EXPECT_EQ(registry.Render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(ExpositionTest, LabelValuesAreEscaped) {
  MetricsRegistry registry(1);
  registry.AddCounter("x_total", "X.", {"topic", "note"})
      .WithLabels({"back\\slash", "say \"hi\"\nbye"})
      .Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP x_total X.\n# TYPE x_total counter\n"
            "x_total{topic=\"back\\\\slash\",note=\"say \\\"hi\\\"\\nbye\"} 1\n");
}

TEST(ExpositionTest, EscapeHelpers) {
  std::string s;
  AppendEscapedLabelValue(&s, "a\\b\"c\nd");
  EXPECT_EQ(s, "a\\\\b\\\"c\\nd");
  s.clear();
  AppendEscapedHelp(&s, "a\\b\"c\nd");  // Quotes stay as they are in HELP.
  EXPECT_EQ(s, "a\\\\b\"c\\nd");
}

TEST(ExpositionTest, Values) {
  auto fmt = [](auto v) {
    std::string s;
    AppendValue(&s, v);
    return s;
  };
  EXPECT_EQ(fmt(uint64_t{18446744073709551615u}), "18446744073709551615");
  EXPECT_EQ(fmt(0.0), "0");
  EXPECT_EQ(fmt(-2.5), "-2.5");
  EXPECT_EQ(fmt(0.00005), "5e-05");
  EXPECT_EQ(fmt(1e21), "1e+21");
  EXPECT_EQ(fmt(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(fmt(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(fmt(std::nan("")), "NaN");
}

TEST(ExpositionTest, NameValidation) {
  EXPECT_TRUE(IsValidMetricName("sluice_requests_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate:5m"));
  EXPECT_TRUE(IsValidMetricName("_x9"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9x"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_TRUE(IsValidLabelName("topic"));
  EXPECT_TRUE(IsValidLabelName("_p2"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("2a"));
}

TEST(ExpositionTest, RegisteringTwiceReturnsTheSameFamily) {
  MetricsRegistry registry(1);
  CounterFamily& a = registry.AddCounter("c_total", "C.", {"api"});
  CounterFamily& b = registry.AddCounter("c_total", "C.", {"api"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.WithLabels({"x"}), &b.WithLabels({"x"}));
}

TEST(ExpositionDeathTest, MisuseAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricsRegistry registry(1);
  registry.AddCounter("c_total", "C.", {"api"});
  EXPECT_DEATH(registry.AddGauge("c_total", "C.", {"api"}), "different type or labels");
  EXPECT_DEATH(registry.AddCounter("bad-name", "B."), "invalid metric name");
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {"le"}, {1}), "'le' label");
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {}, {2, 1}), "strictly increasing");
  EXPECT_DEATH(registry.AddCounter("c_total", "C.", {"api"}).WithLabels({}),
               "wrong number of label values");
}

TEST(ExpositionTest, RemoveDropsTheSeries) {
  MetricsRegistry registry(1);
  CounterFamily& family = registry.AddCounter("c_total", "C.", {"topic"});
  family.WithLabels({"gone"}).Increment();
  family.WithLabels({"kept"}).Increment(2);
  family.Remove({"gone"});
  EXPECT_EQ(registry.Render(),
            "# HELP c_total C.\n# TYPE c_total counter\nc_total{topic=\"kept\"} 2\n");
}

}  // namespace
}  // namespace sluice::metrics
