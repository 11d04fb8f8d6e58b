// KafkaService: everything behind the Kafka listeners -- the partitions,
// the flusher, timers, producer ids and the request router -- built from the
// configuration at start-up and closed at shutdown.
//
// Start-up order: data directories (meta.properties, partition logs with
// recovery), then the router; the network server is started by the caller
// once Open has succeeded, and stopped before Close.
//
// It also owns the broker's metrics (metrics/broker_metrics.h): requests by
// API, latency, bytes, connections and per-partition gauges; the caller
// serves metrics_registry() over HTTP.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/broker_services.h"
#include "api/cluster_admin.h"
#include "api/cluster_view.h"
#include "api/request_router.h"
#include "base/status.h"
#include "base/timer_thread.h"
#include "broker/cluster_membership.h"
#include "broker/config_watcher.h"
#include "cluster/metadata_cache.h"
#include "cluster/partition_manager.h"
#include "cluster/producer_id_allocator.h"
#include "config/broker_config.h"
#include "group/group_coordinator.h"
#include "group/group_log.h"
#include "group/lag_metrics.h"
#include "metrics/broker_metrics.h"
#include "metrics/registry.h"
#include "replication/replica_manager.h"

namespace sluice::broker {

class KafkaService {
 public:
  // `cluster_id`: the cluster this broker has joined (a fresh data directory
  // records it, one of another cluster is refused); empty on a single node,
  // whose fresh directory gets a new id. `cluster_view`: the brokers and
  // controller Metadata reports; null on a single node (this broker alone).
  // `cluster_admin`: where topics are created and deleted in a cluster; null
  // on a single node (the local partitions). Both must outlive the service.
  // With `membership` (a cluster) the service also keeps the metadata cache
  // and the ReplicaManager (follower fetchers, ISR upkeep), and serves the
  // cluster-only APIs; `membership` is also the cluster view and the
  // controller; a ConfigWatcher applies topic config changes made in
  // ZooKeeper to the partitions hosted here.
  static Result<std::unique_ptr<KafkaService>> Open(const config::BrokerConfig& config,
                                                    const std::string& cluster_id = "",
                                                    ClusterMembership* membership = nullptr,
                                                    api::ClusterAdmin* cluster_admin = nullptr);
  ~KafkaService();

  network::RequestHandler& handler() { return *router_; }
  // What Metadata advertises. Set once the listener's port is known (it may
  // be 0 = any in the config), before the server accepts connections.
  void SetAdvertisedEndpoint(std::string host, int32_t port);
  const std::string& cluster_id() const { return services_->cluster_id; }
  // Outlives everything else of the service (an HttpServer may reference it
  // until the service is destroyed).
  metrics::MetricsRegistry& metrics_registry() { return *metrics_registry_; }
  metrics::BrokerMetrics& metrics() { return *metrics_; }

  // Answers requests that would otherwise wait long (group joins waiting
  // for a rebalance) so that the server drains quickly on shutdown.
  void BeginShutdown();
  // In a cluster, once this broker's registration is gone: stops leading
  // (ReplicaManager::ResignLeadership), so writes waiting for followers
  // answer now and clients move to the new leaders. Nothing on a single node.
  void ResignLeadership();
  // Flushes and closes every partition log (clean-shutdown markers).
  Status Close();

 private:
  KafkaService();
  // sluice_replication_* and sluice_controller_* (a cluster only).
  void RegisterClusterGauges(ClusterMembership* membership);

  // Declared first: destroyed last, after the partitions and router that
  // hold handles into them.
  std::unique_ptr<metrics::MetricsRegistry> metrics_registry_;
  std::unique_ptr<metrics::BrokerMetrics> metrics_;
  std::unique_ptr<TimerThread> timers_;
  std::unique_ptr<cluster::PartitionManager> partitions_;
  std::unique_ptr<cluster::ProducerIdAllocator> producer_ids_;
  std::unique_ptr<group::GroupLog> group_log_;
  std::unique_ptr<group::GroupLagMetrics> group_lag_;
  std::unique_ptr<group::GroupCoordinator> groups_;
  // A cluster only (null on a single node).
  std::unique_ptr<cluster::MetadataCache> metadata_cache_;
  // leader./follower.replication.throttled.rate (the follower one is shared
  // with the fetchers).
  std::shared_ptr<replication::ReplicationQuota> leader_quota_;
  std::shared_ptr<replication::ReplicationQuota> follower_quota_;
  std::unique_ptr<replication::ReplicaManager> replicas_;
  ClusterMembership* membership_ = nullptr;
  // Applies topic config changes from ZooKeeper; stopped before the
  // partitions close, destroyed after.
  std::unique_ptr<ConfigWatcher> config_watcher_;
  // Gauges reading replicas_ and the membership; dropped before them.
  std::vector<metrics::CallbackHandle> cluster_gauges_;
  std::unique_ptr<api::BrokerServices> services_;
  std::unique_ptr<api::RequestRouter> router_;
};

}  // namespace sluice::broker
