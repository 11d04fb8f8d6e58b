// BrokerMetrics: the broker's well-known metric families, registered in one
// place so names, help and labels stay consistent:
//
//   sluice_requests_total{api}                       counter
//   sluice_request_errors_total{api,error}           counter
//   sluice_request_latency_seconds{api}              histogram (LatencyBuckets)
//   sluice_bytes_in_total                            counter (request bytes)
//   sluice_bytes_out_total                           counter (response bytes)
//   sluice_connections                               gauge (open client connections)
//   sluice_fetch_waiting                             gauge (fetches parked for data)
//   sluice_partition_log_end_offset{topic,partition} gauge (callback)
//   sluice_partition_size_bytes{topic,partition}     gauge (callback)
//   sluice_log_retention_deleted_segments_total      counter
//   sluice_log_retention_deleted_bytes_total         counter
//   sluice_log_cleaner_*_total                       counters (callback; RegisterLogCleaner)
//
// Wiring: at start-up call RegisterApi() for each API the broker serves; a
// shard then does, per request,
//   BrokerMetrics::Api& api = metrics.ForApi(header.api_key);  // array index
//   api.requests.Increment(); ... api.latency.ObserveDuration(elapsed);
//   if (error) api.RecordError(code, protocol::ErrorCodeName(...));
// and each partition keeps the PartitionMetrics returned by
// RegisterPartition() for its lifetime (destroying it unregisters the gauges).
//
// Thread-safety: all methods are thread-safe; ForApi() and the handles are
// lock-free. This library does not depend on the protocol library, so API and
// error names are passed in by the caller.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/registry.h"
#include "base/mutex.h"

namespace sluice::metrics {

class BrokerMetrics {
 public:
  // Kafka API keys fit in [0, kMaxApiKeys); error codes of interest in
  // [-1, kMaxErrorCode]. Others are still counted, via a slower lookup.
  static constexpr int kMaxApiKeys = 128;
  static constexpr int kMaxErrorCode = 127;

  class Api {
   public:
    Counter& requests;
    Histogram& latency;

    // Counts one error response. Lock-free for codes in [-1, kMaxErrorCode]
    // after the first occurrence of each; `error_name` labels the series
    // (e.g. "NOT_LEADER_OR_FOLLOWER").
    void RecordError(int16_t error_code, std::string_view error_name);

    const std::string& name() const { return name_; }

   private:
    friend class BrokerMetrics;
    Api(BrokerMetrics* owner, std::string name);

    BrokerMetrics* const owner_;
    const std::string name_;
    std::array<std::atomic<Counter*>, kMaxErrorCode + 2> errors_{};  // Index code + 1.
  };

  // Keeps a partition's gauges registered; destroy it when the partition goes.
  struct PartitionMetrics {
    CallbackHandle log_end_offset;
    CallbackHandle size_bytes;
  };

  // The log cleaner's running totals, read at scrape time.
  struct CleanerTotals {
    uint64_t passes = 0;
    uint64_t segments_rewritten = 0;
    uint64_t segments_deleted = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t records_removed = 0;
    uint64_t tombstones_removed = 0;
    uint64_t errors = 0;
  };
  // Keeps the cleaner's counters registered; destroy it before the cleaner.
  struct CleanerMetrics {
    std::vector<CallbackHandle> series;
  };

  explicit BrokerMetrics(MetricsRegistry& registry);
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // Names API `api_key` (e.g. 0, "Produce"). Call once per key, before or
  // while shards run; a second call for a key keeps the first name.
  void RegisterApi(int16_t api_key, std::string_view name);

  // The handles for `api_key`; keys never registered map to api="unknown".
  Api& ForApi(int16_t api_key) {
    if (api_key >= 0 && api_key < kMaxApiKeys) {
      if (Api* api = apis_[api_key].load(std::memory_order_acquire)) return *api;
    }
    return *unknown_api_;
  }

  Counter& bytes_in() { return bytes_in_; }
  Counter& bytes_out() { return bytes_out_; }
  Gauge& connections() { return connections_; }
  // Fetch requests parked until data arrives or max_wait_ms passes (long
  // polls; Kafka's fetch purgatory size).
  Gauge& fetches_waiting() { return fetches_waiting_; }

  // Registers the partition's gauges. The callbacks run on the scrape thread
  // (read atomics; see MetricFamily::Render for the rules).
  [[nodiscard]] PartitionMetrics RegisterPartition(std::string_view topic, int32_t partition,
                                                   std::function<double()> log_end_offset,
                                                   std::function<double()> size_bytes);

  // Segments and bytes deleted by retention.ms / retention.bytes.
  Counter& retention_segments_deleted() { return retention_segments_; }
  Counter& retention_bytes_deleted() { return retention_bytes_; }

  // Exports the cleaner's totals; `read` runs on the scrape thread, once per
  // series, and must never report a total lower than before.
  [[nodiscard]] CleanerMetrics RegisterLogCleaner(std::function<CleanerTotals()> read);

  MetricsRegistry& registry() { return registry_; }

 private:
  MetricsRegistry& registry_;
  CounterFamily& requests_;
  CounterFamily& errors_;
  HistogramFamily& latency_;
  GaugeFamily& log_end_offset_;
  GaugeFamily& size_bytes_;
  Counter& bytes_in_;
  Counter& bytes_out_;
  Gauge& connections_;
  Gauge& fetches_waiting_;
  Counter& retention_segments_;
  Counter& retention_bytes_;

  Mutex mu_;  // Serialises RegisterApi.
  std::vector<std::unique_ptr<Api>> owned_ GUARDED_BY(mu_);
  std::array<std::atomic<Api*>, kMaxApiKeys> apis_{};
  Api* unknown_api_;
};

}  // namespace sluice::metrics
