// ZkClusterAdmin: api::ClusterAdmin for a broker in a ZooKeeper cluster.
//
// Validates as the single node's handlers and PartitionManager do (topic
// name rules, partition counts, topic config through config/, the
// internal-topic protections), against the cluster rather than this broker:
// the replication factor and an explicit assignment against the live
// brokers (BrokerRegistry, through ClusterMembership), replicas placed by
// controller::AssignReplicas with their racks, and writes through
// controller/topic_writer.h. Topic configs are written there too (with the
// change notification every broker's ConfigWatcher follows) and read
// back from there: /config/topics/<t> is the one copy DescribeConfigs
// answers from, whichever broker is asked.
//
// sluice.broker.max.partitions is a limit per broker, so here it is applied
// to every broker the request places replicas on: the replicas that broker
// holds across all topics' assignments in ZooKeeper, plus the new ones, may
// not pass this broker's limit (the brokers of a cluster are expected to
// share it). Counting them costs one read per topic in ZooKeeper per
// request; a count kept by watches is the way out if that shows.
//
// Threads: thread-safe; every call blocks on ZooKeeper (see cluster_admin.h).
#pragma once

#include <string>

#include "api/cluster_admin.h"
#include "broker/cluster_membership.h"
#include "config/broker_config.h"

namespace sluice::broker {

class ZkClusterAdmin final : public api::ClusterAdmin {
 public:
  // Both must outlive this.
  ZkClusterAdmin(ClusterMembership* membership, const config::BrokerConfig& config)
      : membership_(membership), config_(config) {}

  api::CreatedTopic CreateTopic(const api::NewTopic& topic) override;
  api::AdminOutcome CreatePartitions(
      const std::string& name, int32_t total,
      const std::optional<std::vector<std::vector<int32_t>>>& assignment,
      bool validate_only) override;
  api::DeletedTopic DeleteTopic(const std::string& name) override;
  api::AdminOutcome AlterTopicConfig(const std::string& name, const api::TopicConfigEdit& edit,
                                     bool validate_only) override;
  api::TopicConfigs DescribeTopicConfig(const std::string& name) override;
  api::AdminOutcome AlterBrokerConfig(const std::string& entity, const api::TopicConfigEdit& edit,
                                      bool validate_only) override;
  api::TopicConfigs DescribeBrokerConfig(const std::string& entity) override;

 private:
  ClusterMembership* const membership_;
  const config::BrokerConfig& config_;
};

}  // namespace sluice::broker
