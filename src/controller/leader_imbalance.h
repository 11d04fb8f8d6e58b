// The leader imbalance of a cluster and the partitions an automatic
// preferred-leader rebalance moves (Kafka's checkAndTriggerAutoLeaderRebalance,
// run by the controller every leader.imbalance.check.interval.seconds while
// auto.leader.rebalance.enable). Pure functions of the controller's model and
// the live brokers, so that the rule is tested without ZooKeeper.
//
// Why per broker: a broker's preferred partitions are those whose assignment
// names it first, which the assignment spreads evenly; when it restarts, the
// controller moves their leaderships to other replicas, and they stay there
// (a clean election never moves a live leader) until something moves them
// back. Counting per preferred broker finds the broker that lost its share.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "controller/partition_state_machine.h"

namespace sluice::controller {

struct BrokerLeaderImbalance {
  // Partitions whose preferred replica (the first in the assignment) is
  // this broker, with or without a state yet.
  int32_t preferred = 0;
  // Those of them that have a state naming another leader, or none.
  int32_t not_led = 0;
  // not_led / preferred.
  double ratio() const { return preferred == 0 ? 0.0 : static_cast<double>(not_led) / preferred; }
};

// Per preferred broker (brokers preferred for no partition are absent).
std::map<int32_t, BrokerLeaderImbalance> LeaderImbalance(
    const std::map<std::string, TopicModel>& topics);

// The partitions a rebalance check elects their preferred replica for: of
// each broker whose ratio exceeds `imbalance_percentage` / 100, the
// partitions it does not lead although it is live and in their ISR.
// Ordered by topic and partition.
std::vector<TopicPartition> PartitionsToRebalance(const std::map<std::string, TopicModel>& topics,
                                                  const std::set<int32_t>& live,
                                                  int32_t imbalance_percentage);

}  // namespace sluice::controller
