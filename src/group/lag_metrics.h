// GroupLagMetrics: exports each committed offset and the group's lag on that
// partition (high watermark minus committed offset, never negative) as
// Prometheus gauges:
//   sluice_consumer_group_committed_offset{group,topic,partition}
//   sluice_consumer_group_lag{group,topic,partition}
// Series come and go with the offsets (committed, expired, deleted).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "group/offset_observer.h"
#include "metrics/gauge.h"
#include "metrics/registry.h"
#include "base/mutex.h"

namespace sluice::group {

class GroupLagMetrics final : public OffsetObserver {
 public:
  // `high_watermark(topic, partition)`: nullopt if the partition is gone.
  // It runs on the scrape thread; it must not block on this object.
  using HighWatermark = std::function<std::optional<int64_t>(const std::string&, int32_t)>;

  GroupLagMetrics(metrics::MetricsRegistry& registry, HighWatermark high_watermark);

  void OnOffsetCommitted(const std::string& group, const std::string& topic, int32_t partition,
                         int64_t offset) override;
  void OnOffsetRemoved(const std::string& group, const std::string& topic,
                       int32_t partition) override;

 private:
  struct Series {
    std::shared_ptr<std::atomic<int64_t>> committed;
    metrics::CallbackHandle committed_gauge;
    metrics::CallbackHandle lag_gauge;
  };
  using Key = std::tuple<std::string, std::string, int32_t>;

  metrics::GaugeFamily& committed_;
  metrics::GaugeFamily& lag_;
  const HighWatermark high_watermark_;
  Mutex mu_;
  std::map<Key, Series> series_ GUARDED_BY(mu_);
};

}  // namespace sluice::group
