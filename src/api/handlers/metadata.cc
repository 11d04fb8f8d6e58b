// Metadata: brokers, topics and partition leaders. The brokers and the
// controller are the cluster's (cluster_state.h). On a single node the
// topics are this broker's own and it leads every partition; unknown topics
// are auto-created when both the broker (auto.create.topics.enable) and the
// request (v4+) allow it. In a cluster every topic of the cluster is
// described from the metadata cache (the controller's UpdateMetadata):
// leader, leader epoch, replicas, ISR and offline replicas of each
// partition, LEADER_NOT_AVAILABLE for one without a live leader
// (cluster_topic_metadata.h). (Auto-creation
// in a cluster is not built yet: an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.)
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "api/handlers/cluster_state.h"
#include "api/handlers/cluster_topic_metadata.h"
#include "api/handlers/handlers.h"
#include "cluster/metadata_cache.h"
#include "cluster/topic_name.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::MetadataResponse;
using protocol::ToWire;

MetadataResponse::MetadataResponseTopic DescribeTopic(const BrokerServices& services,
                                                      const cluster::TopicInfo& info) {
  MetadataResponse::MetadataResponseTopic t;
  t.name = info.name;
  t.topic_id.bytes = info.id;
  t.is_internal = cluster::IsInternalTopic(info.name);
  for (int32_t p = 0; p < info.partition_count; ++p) {
    MetadataResponse::MetadataResponsePartition part;
    part.partition_index = p;
    part.leader_id = services.broker_id;
    part.leader_epoch = 0;
    part.replica_nodes = {services.broker_id};
    part.isr_nodes = {services.broker_id};
    t.partitions.push_back(std::move(part));
  }
  return t;
}

MetadataResponse::MetadataResponseTopic TopicError(const std::optional<std::string>& name,
                                                   ErrorCode error) {
  MetadataResponse::MetadataResponseTopic t;
  t.name = name;
  t.error_code = ToWire(error);
  return t;
}

void RespondFromCache(RequestContext& ctx, const protocol::MetadataRequest& request,
                      bool all_topics, MetadataResponse& response) {
  std::shared_ptr<const cluster::MetadataSnapshot> snapshot =
      ctx.services->metadata_cache->Current();
  std::set<int32_t> live;
  for (const auto& b : response.brokers) live.insert(b.node_id);
  if (all_topics) {
    for (const auto& [name, topic] : snapshot->topics) {
      response.topics.push_back(DescribeClusterTopic(name, topic, live));
    }
  } else {
    for (const auto& wanted : *request.topics) {
      if (!wanted.name) {
        response.topics.push_back(TopicError(std::nullopt, ErrorCode::UNKNOWN_TOPIC_ID));
      } else if (auto it = snapshot->topics.find(*wanted.name); it != snapshot->topics.end()) {
        response.topics.push_back(DescribeClusterTopic(it->first, it->second, live));
      } else if (!cluster::ValidateTopicName(*wanted.name).ok()) {
        response.topics.push_back(TopicError(wanted.name, ErrorCode::INVALID_TOPIC_EXCEPTION));
      } else {
        response.topics.push_back(TopicError(wanted.name, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
      }
    }
  }
  for (const auto& t : response.topics) {
    ctx.RecordError(t.error_code);
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace

void HandleMetadata(RequestContext ctx, protocol::MetadataRequest request) {
  BrokerServices& services = *ctx.services;
  MetadataResponse response;
  ClusterState cluster = CurrentClusterState(services);
  for (BrokerEndpoint& b : cluster.brokers) {
    MetadataResponse::MetadataResponseBroker& broker = response.brokers.emplace_back();
    broker.node_id = b.id;
    broker.host = std::move(b.host);
    broker.port = b.port;
    broker.rack = std::move(b.rack);
  }
  response.cluster_id = services.cluster_id;
  response.controller_id = cluster.controller_id;

  // v0: an empty list means every topic; v1+: null means every topic.
  const bool all_topics = !request.topics.has_value() ||
                          (ctx.version() == 0 && request.topics->empty());
  if (services.metadata_cache != nullptr) {
    RespondFromCache(ctx, request, all_topics, response);
    return;
  }
  if (all_topics) {
    for (const cluster::TopicInfo& info : services.partitions.ListTopics()) {
      response.topics.push_back(DescribeTopic(services, info));
    }
    for (const auto& t : response.topics) {
      ctx.RecordError(t.error_code);
      for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
    }
    ctx.Respond(response);
    return;
  }

  const bool auto_create = services.config.GetBool("auto.create.topics.enable") &&
                           (ctx.version() < 4 || request.allow_auto_topic_creation);
  for (const auto& wanted : *request.topics) {
    if (!wanted.name) {
      // Lookup by topic id (v10+) is not supported yet.
      response.topics.push_back(TopicError(std::nullopt, ErrorCode::UNKNOWN_TOPIC_ID));
      continue;
    }
    const std::string& name = *wanted.name;
    if (auto info = services.partitions.FindTopic(name)) {
      response.topics.push_back(DescribeTopic(services, *info));
      continue;
    }
    if (!cluster::ValidateTopicName(name).ok()) {
      response.topics.push_back(TopicError(name, ErrorCode::INVALID_TOPIC_EXCEPTION));
      continue;
    }
    if (!auto_create) {
      response.topics.push_back(TopicError(name, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
      continue;
    }
    auto created = services.partitions.CreateTopic(
        name, services.config.GetInt("num.partitions"),
        static_cast<int16_t>(services.config.GetInt("default.replication.factor")), {},
        /*validate_only=*/false);
    if (created.ok()) {
      spdlog::info("auto-created topic {} with {} partitions", name, created->partition_count);
      response.topics.push_back(DescribeTopic(services, *created));
    } else if (created.status().code() == StatusCode::kAlreadyExists) {
      // Another connection created it meanwhile.
      if (auto info = services.partitions.FindTopic(name)) {
        response.topics.push_back(DescribeTopic(services, *info));
      }
    } else {
      spdlog::warn("auto-creating topic {} failed: {}", name, created.status().ToString());
      response.topics.push_back(TopicError(name, ErrorCode::INVALID_REPLICATION_FACTOR));
    }
  }
  for (const auto& t : response.topics) {
    ctx.RecordError(t.error_code);
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
