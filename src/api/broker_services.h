// What the Kafka API handlers use of the rest of the broker. Built once by
// the broker process; every member outlives every request.
#pragma once

#include <cstdint>
#include <string>

#include "api/cluster_admin.h"
#include "api/cluster_view.h"
#include "base/timer_thread.h"
#include "cluster/metadata_cache.h"
#include "cluster/partition_manager.h"
#include "cluster/producer_id_allocator.h"
#include "config/broker_config.h"
#include "group/group_coordinator.h"
#include "metrics/broker_metrics.h"
#include "replication/replica_manager.h"
#include "replication/replication_quota.h"

namespace sluice::api {

struct AdvertisedEndpoint {
  std::string host;
  int32_t port = 0;
};

struct BrokerServices {
  const config::BrokerConfig& config;
  cluster::PartitionManager& partitions;
  TimerThread& timers;
  cluster::ProducerIdAllocator& producer_ids;
  group::GroupCoordinator& groups;
  int32_t broker_id = 0;
  std::string cluster_id;
  AdvertisedEndpoint advertised;  // What Metadata tells clients to connect to.
  // The other brokers and the controller; null on a single node.
  const ClusterView* cluster_view = nullptr;
  // In a cluster (null on a single node, which answers from its own topics
  // and leads every partition): the cluster's topics as the controller last
  // told this broker, and this broker's side of the controller's replica
  // decisions. The cluster-only APIs (LeaderAndIsr, UpdateMetadata,
  // StopReplica) are served only when they are set.
  cluster::MetadataCache* metadata_cache = nullptr;
  replication::ReplicaManager* replicas = nullptr;
  // leader.replication.throttled.rate: what a follower fetch of a throttled,
  // out-of-sync replica may take from this leader (fetch.cc); null on a
  // single node.
  replication::ReplicationQuota* leader_quota = nullptr;
  // The listener other brokers are reached on (inter.broker.listener.name).
  std::string inter_broker_listener;
  // CreateTopics, CreatePartitions and DeleteTopics in a ZooKeeper cluster;
  // null on a single node, whose handlers change `partitions` instead.
  ClusterAdmin* cluster_admin = nullptr;
  // AlterPartition and ElectLeaders when this broker is the controller; null
  // on a single node.
  ControllerService* controller = nullptr;
  // The broker's metric families; null in tests that build services alone.
  metrics::BrokerMetrics* metrics = nullptr;
};

}  // namespace sluice::api
