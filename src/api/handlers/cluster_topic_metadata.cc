#include "api/handlers/cluster_topic_metadata.h"

#include "cluster/topic_name.h"
#include "protocol/error_code.h"

namespace sluice::api {

using protocol::ErrorCode;
using protocol::MetadataResponse;

MetadataResponse::MetadataResponseTopic DescribeClusterTopic(const std::string& name,
                                                             const cluster::TopicMetadata& topic,
                                                             const std::set<int32_t>& live) {
  MetadataResponse::MetadataResponseTopic t;
  t.name = name;
  t.topic_id.bytes = topic.id;
  t.is_internal = cluster::IsInternalTopic(name);
  for (const auto& [index, p] : topic.partitions) {
    MetadataResponse::MetadataResponsePartition& part = t.partitions.emplace_back();
    part.partition_index = index;
    part.leader_id = live.contains(p.leader) ? p.leader : -1;
    part.leader_epoch = p.leader_epoch;
    part.replica_nodes = p.replicas;
    part.isr_nodes = p.isr;
    part.offline_replicas = p.offline_replicas;
    if (part.leader_id < 0) part.error_code = protocol::ToWire(ErrorCode::LEADER_NOT_AVAILABLE);
  }
  return t;
}

}  // namespace sluice::api
