#include "metrics/broker_metrics.h"

namespace sluice::metrics {

BrokerMetrics::Api::Api(BrokerMetrics* owner, std::string name)
    : requests(owner->requests_.WithLabels({name})),
      latency(owner->latency_.WithLabels({name})),
      owner_(owner),
      name_(std::move(name)) {}

void BrokerMetrics::Api::RecordError(int16_t error_code, std::string_view error_name) {
  int index = error_code + 1;
  if (index < 0 || index >= static_cast<int>(errors_.size())) {
    owner_->errors_.WithLabels({name_, std::string(error_name)}).Increment();
    return;
  }
  Counter* counter = errors_[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Racing threads get the same counter from the family; either store wins.
    counter = &owner_->errors_.WithLabels({name_, std::string(error_name)});
    errors_[index].store(counter, std::memory_order_release);
  }
  counter->Increment();
}

BrokerMetrics::BrokerMetrics(MetricsRegistry& registry)
    : registry_(registry),
      requests_(registry.AddCounter("sluice_requests_total", "Requests received, by API.",
                                    {"api"})),
      errors_(registry.AddCounter("sluice_request_errors_total",
                                  "Responses carrying an error code, by API and error.",
                                  {"api", "error"})),
      latency_(registry.AddHistogram("sluice_request_latency_seconds",
                                     "Time from reading a request to queueing its response.",
                                     {"api"}, LatencyBuckets())),
      log_end_offset_(registry.AddGauge("sluice_partition_log_end_offset",
                                        "Offset the next record appended to the partition gets.",
                                        {"topic", "partition"})),
      size_bytes_(registry.AddGauge("sluice_partition_size_bytes",
                                    "Bytes of log segments the partition holds on disk.",
                                    {"topic", "partition"})),
      bytes_in_(registry.AddCounter("sluice_bytes_in_total",
                                    "Bytes of requests read from clients.").Get()),
      bytes_out_(registry.AddCounter("sluice_bytes_out_total",
                                     "Bytes of responses written to clients.").Get()),
      connections_(registry.AddGauge("sluice_connections", "Open client connections.").Get()),
      fetches_waiting_(registry
                           .AddGauge("sluice_fetch_waiting",
                                     "Fetch requests waiting for data (long polls).")
                           .Get()),
      retention_segments_(
          registry
              .AddCounter("sluice_log_retention_deleted_segments_total",
                          "Log segments deleted by retention.ms or retention.bytes.")
              .Get()),
      retention_bytes_(registry
                           .AddCounter("sluice_log_retention_deleted_bytes_total",
                                       "Bytes of log segments deleted by retention.")
                           .Get()) {
  owned_.push_back(std::unique_ptr<Api>(new Api(this, "unknown")));
  unknown_api_ = owned_.back().get();
}

void BrokerMetrics::RegisterApi(int16_t api_key, std::string_view name) {
  if (api_key < 0 || api_key >= kMaxApiKeys) return;  // Counted as "unknown".
  MutexLock lock(&mu_);
  if (apis_[api_key].load(std::memory_order_relaxed) != nullptr) return;
  owned_.push_back(std::unique_ptr<Api>(new Api(this, std::string(name))));
  apis_[api_key].store(owned_.back().get(), std::memory_order_release);
}

BrokerMetrics::PartitionMetrics BrokerMetrics::RegisterPartition(
    std::string_view topic, int32_t partition, std::function<double()> log_end_offset,
    std::function<double()> size_bytes) {
  LabelValues labels{std::string(topic), std::to_string(partition)};
  PartitionMetrics m;
  m.log_end_offset = log_end_offset_.AddCallback(labels, std::move(log_end_offset));
  m.size_bytes = size_bytes_.AddCallback(std::move(labels), std::move(size_bytes));
  return m;
}

BrokerMetrics::CleanerMetrics BrokerMetrics::RegisterLogCleaner(
    std::function<CleanerTotals()> read) {
  struct Series {
    const char* name;
    const char* help;
    uint64_t CleanerTotals::*field;
  };
  static constexpr Series kSeries[] = {
      {"sluice_log_cleaner_passes_total", "Cleaning passes the log cleaner completed.",
       &CleanerTotals::passes},
      {"sluice_log_cleaner_segments_rewritten_total", "Segments replaced by a cleaned copy.",
       &CleanerTotals::segments_rewritten},
      {"sluice_log_cleaner_segments_deleted_total", "Segments the cleaner emptied and deleted.",
       &CleanerTotals::segments_deleted},
      {"sluice_log_cleaner_read_bytes_total", "Bytes the cleaner read.",
       &CleanerTotals::bytes_read},
      {"sluice_log_cleaner_cleaned_bytes_total", "Bytes of segments cleaned (before cleaning).",
       &CleanerTotals::bytes_before},
      {"sluice_log_cleaner_written_bytes_total", "Bytes of the cleaned segments written.",
       &CleanerTotals::bytes_after},
      {"sluice_log_cleaner_removed_records_total", "Records removed by compaction.",
       &CleanerTotals::records_removed},
      {"sluice_log_cleaner_removed_tombstones_total", "Tombstones removed once expired.",
       &CleanerTotals::tombstones_removed},
      {"sluice_log_cleaner_errors_total", "Cleaning passes that failed.", &CleanerTotals::errors},
  };
  CleanerMetrics m;
  for (const Series& s : kSeries) {
    m.series.push_back(registry_.AddCounter(s.name, s.help).AddCallback(
        {}, [read, field = s.field] { return static_cast<double>(read().*field); }));
  }
  return m;
}

}  // namespace sluice::metrics
