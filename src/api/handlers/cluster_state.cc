#include "api/handlers/cluster_state.h"

namespace sluice::api {

ClusterState CurrentClusterState(const BrokerServices& services) {
  if (services.cluster_view != nullptr) return services.cluster_view->Current();
  ClusterState state;
  state.brokers.push_back(BrokerEndpoint{services.broker_id, services.advertised.host,
                                         services.advertised.port, services.config.rack()});
  state.controller_id = services.broker_id;
  return state;
}

bool PartitionExists(const BrokerServices& services, std::string_view topic, int32_t partition) {
  if (services.metadata_cache == nullptr) return services.partitions.Get(topic, partition) != nullptr;
  std::shared_ptr<const cluster::MetadataSnapshot> snapshot = services.metadata_cache->Current();
  auto t = snapshot->topics.find(topic);
  return t != snapshot->topics.end() && t->second.partitions.count(partition) > 0;
}

protocol::ErrorCode MissingPartitionError(const BrokerServices& services, std::string_view topic,
                                          int32_t partition) {
  return services.metadata_cache != nullptr && PartitionExists(services, topic, partition)
             ? protocol::ErrorCode::NOT_LEADER_OR_FOLLOWER
             : protocol::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
}

}  // namespace sluice::api
