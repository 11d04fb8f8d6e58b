#include "controller/leader_imbalance.h"

#include <algorithm>

namespace sluice::controller {
namespace {

// Whether the partition has a state whose leader is not its preferred replica.
bool LedElsewhere(const PartitionModel& m) {
  return !m.replicas.empty() && m.state && m.state->leader != m.replicas.front();
}

}  // namespace

std::map<int32_t, BrokerLeaderImbalance> LeaderImbalance(
    const std::map<std::string, TopicModel>& topics) {
  std::map<int32_t, BrokerLeaderImbalance> out;
  for (const auto& [name, topic] : topics) {
    for (const auto& [p, m] : topic.partitions) {
      if (m.replicas.empty()) continue;
      BrokerLeaderImbalance& b = out[m.replicas.front()];
      ++b.preferred;
      if (LedElsewhere(m)) ++b.not_led;
    }
  }
  return out;
}

std::vector<TopicPartition> PartitionsToRebalance(const std::map<std::string, TopicModel>& topics,
                                                  const std::set<int32_t>& live,
                                                  int32_t imbalance_percentage) {
  const std::map<int32_t, BrokerLeaderImbalance> imbalance = LeaderImbalance(topics);
  const double threshold = static_cast<double>(imbalance_percentage) / 100.0;
  std::vector<TopicPartition> out;
  for (const auto& [name, topic] : topics) {
    for (const auto& [p, m] : topic.partitions) {
      if (!LedElsewhere(m)) continue;
      const int32_t preferred = m.replicas.front();
      if (imbalance.at(preferred).ratio() <= threshold) continue;
      const bool in_isr =
          std::find(m.state->isr.begin(), m.state->isr.end(), preferred) != m.state->isr.end();
      if (live.contains(preferred) && in_isr) out.push_back({name, p});
    }
  }
  return out;
}

}  // namespace sluice::controller
