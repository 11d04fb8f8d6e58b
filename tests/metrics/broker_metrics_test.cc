#include "metrics/broker_metrics.h"

#include <chrono>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(BrokerMetricsTest, WellKnownFamilies) {
  MetricsRegistry registry(2);
  BrokerMetrics metrics(registry);
  metrics.RegisterApi(0, "Produce");
  metrics.RegisterApi(1, "Fetch");
  metrics.RegisterApi(0, "Renamed");  // Ignored: first name stays.

  BrokerMetrics::Api& produce = metrics.ForApi(0);
  EXPECT_EQ(produce.name(), "Produce");
  produce.requests.Increment();
  produce.requests.Increment();
  produce.latency.ObserveDuration(std::chrono::microseconds(70));
  produce.RecordError(6, "NOT_LEADER_OR_FOLLOWER");
  produce.RecordError(6, "NOT_LEADER_OR_FOLLOWER");
  produce.RecordError(-1, "UNKNOWN_SERVER_ERROR");
  produce.RecordError(500, "SOMETHING_NEW");  // Outside the cache: still counted.
  metrics.ForApi(99).requests.Increment();     // Never registered.
  metrics.ForApi(-3).requests.Increment();
  metrics.bytes_in().Increment(100);
  metrics.bytes_out().Increment(40);
  metrics.connections().Increment();

  std::string text = registry.Render();
  EXPECT_TRUE(Contains(text, "# TYPE sluice_requests_total counter\n")) << text;
  EXPECT_TRUE(Contains(text, "sluice_requests_total{api=\"Produce\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "sluice_requests_total{api=\"Fetch\"} 0\n")) << text;
  EXPECT_TRUE(Contains(text, "sluice_requests_total{api=\"unknown\"} 2\n")) << text;
  EXPECT_TRUE(Contains(
      text, "sluice_request_errors_total{api=\"Produce\",error=\"NOT_LEADER_OR_FOLLOWER\"} 2\n"))
      << text;
  EXPECT_TRUE(Contains(
      text, "sluice_request_errors_total{api=\"Produce\",error=\"UNKNOWN_SERVER_ERROR\"} 1\n"));
  EXPECT_TRUE(
      Contains(text, "sluice_request_errors_total{api=\"Produce\",error=\"SOMETHING_NEW\"} 1\n"));
  EXPECT_TRUE(Contains(text, "# TYPE sluice_request_latency_seconds histogram\n"));
  EXPECT_TRUE(Contains(
      text, "sluice_request_latency_seconds_bucket{api=\"Produce\",le=\"5e-05\"} 0\n")) << text;
  EXPECT_TRUE(Contains(
      text, "sluice_request_latency_seconds_bucket{api=\"Produce\",le=\"0.0001\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "sluice_request_latency_seconds_count{api=\"Produce\"} 1\n"));
  EXPECT_TRUE(Contains(text, "sluice_bytes_in_total 100\n"));
  EXPECT_TRUE(Contains(text, "sluice_bytes_out_total 40\n"));
  EXPECT_TRUE(Contains(text, "sluice_connections 1\n"));
}

TEST(BrokerMetricsTest, PartitionGaugesFollowThePartitionsLifetime) {
  MetricsRegistry registry(1);
  BrokerMetrics metrics(registry);
  {
    BrokerMetrics::PartitionMetrics p =
        metrics.RegisterPartition("orders", 3, [] { return 1234.0; }, [] { return 4096.0; });
    std::string text = registry.Render();
    EXPECT_TRUE(Contains(text, "sluice_partition_log_end_offset{topic=\"orders\",partition=\"3\"} 1234\n"))
        << text;
    EXPECT_TRUE(Contains(text, "sluice_partition_size_bytes{topic=\"orders\",partition=\"3\"} 4096\n"));
  }
  EXPECT_FALSE(Contains(registry.Render(), "orders"));
}

TEST(BrokerMetricsTest, TwoInstancesShareTheRegistryFamilies) {
  MetricsRegistry registry(1);
  BrokerMetrics a(registry);
  BrokerMetrics b(registry);  // E.g. a restarted broker component in tests.
  a.bytes_in().Increment(1);
  b.bytes_in().Increment(2);
  EXPECT_EQ(a.bytes_in().Value(), 3u);
}

}  // namespace
}  // namespace sluice::metrics
