#include "group/lag_metrics.h"

#include <algorithm>
#include <cmath>

namespace sluice::group {

GroupLagMetrics::GroupLagMetrics(metrics::MetricsRegistry& registry, HighWatermark high_watermark)
    : committed_(registry.AddGauge("sluice_consumer_group_committed_offset",
                                   "The group's committed offset of the partition.",
                                   {"group", "topic", "partition"})),
      lag_(registry.AddGauge("sluice_consumer_group_lag",
                             "Messages of the partition after the group's committed offset "
                             "(high watermark minus committed offset).",
                             {"group", "topic", "partition"})),
      high_watermark_(std::move(high_watermark)) {}

void GroupLagMetrics::OnOffsetCommitted(const std::string& group, const std::string& topic,
                                        int32_t partition, int64_t offset) {
  MutexLock lock(&mu_);
  Key key{group, topic, partition};
  auto it = series_.find(key);
  if (it != series_.end()) {
    it->second.committed->store(offset, std::memory_order_relaxed);
    return;
  }
  Series s;
  s.committed = std::make_shared<std::atomic<int64_t>>(offset);
  const metrics::LabelValues labels = {group, topic, std::to_string(partition)};
  s.committed_gauge = committed_.AddCallback(labels, [c = s.committed] {
    return static_cast<double>(c->load(std::memory_order_relaxed));
  });
  s.lag_gauge = lag_.AddCallback(labels, [c = s.committed, hw = high_watermark_, topic,
                                          partition]() -> double {
    auto high = hw(topic, partition);
    if (!high) return std::nan("");
    return static_cast<double>(std::max<int64_t>(0, *high - c->load(std::memory_order_relaxed)));
  });
  series_.emplace(std::move(key), std::move(s));
}

void GroupLagMetrics::OnOffsetRemoved(const std::string& group, const std::string& topic,
                                      int32_t partition) {
  MutexLock lock(&mu_);
  series_.erase(Key{group, topic, partition});
}

}  // namespace sluice::group
