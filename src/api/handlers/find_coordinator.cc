// FindCoordinator. On a single node this broker coordinates every group.
// Asking for a group creates __consumer_offsets first if it does not exist
// (as Kafka does), so the coordinator can store what the group commits: on
// the metadata thread, as that makes fifty logs and syncs the topic table.
//
// In a cluster a group's coordinator is the leader of its partition of
// __consumer_offsets (OffsetsPartitionFor), as this broker's metadata cache
// knows it; while the topic has no leader for it (just created, or its
// leader is gone and none is elected yet) the answer is
// COORDINATOR_NOT_AVAILABLE and clients ask again. The first lookup of a
// cluster whose topic does not exist creates it through the cluster's
// admin (ZooKeeper), on the metadata thread since that blocks: with
// offsets.topic.num.partitions partitions and a replication factor of
// offsets.topic.replication.factor capped by the live brokers, as Kafka
// creates it.
//
// Transaction coordinators do not exist yet: that is a fatal error for a
// transactional producer rather than an endless retry.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "group/offsets_record.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;

constexpr int8_t kGroupKey = 0;
constexpr int8_t kTransactionKey = 1;

struct Answer {
  ErrorCode error = ErrorCode::NONE;
  std::optional<std::string> message;
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
};

Answer KeyTypeError(int8_t key_type) {
  if (key_type == kTransactionKey) {
    return {ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            "transactions are not supported by this broker"};
  }
  return {ErrorCode::INVALID_REQUEST, "unknown key type"};
}

Answer LookupLocal(BrokerServices& services, int8_t key_type) {
  if (key_type != kGroupKey) return KeyTypeError(key_type);
  Status s = services.groups.EnsureReady();
  if (!s.ok()) return {ErrorCode::COORDINATOR_NOT_AVAILABLE, s.message()};
  return {ErrorCode::NONE, std::nullopt, services.broker_id, services.advertised.host,
          services.advertised.port};
}

// In a cluster: the leader of `group`'s offsets partition, from `topic`
// (null: the topic is not known yet).
Answer LookupInCluster(const cluster::TopicMetadata* topic, const ClusterState& state,
                       int8_t key_type, const std::string& group) {
  if (key_type != kGroupKey) return KeyTypeError(key_type);
  if (topic == nullptr || topic->partitions.empty()) {
    return {ErrorCode::COORDINATOR_NOT_AVAILABLE, "the offsets topic is being created"};
  }
  const int32_t index =
      group::OffsetsPartitionFor(group, static_cast<int32_t>(topic->partitions.size()));
  auto p = topic->partitions.find(index);
  if (p == topic->partitions.end() || p->second.leader < 0) {
    return {ErrorCode::COORDINATOR_NOT_AVAILABLE, "the group's offsets partition has no leader"};
  }
  for (const BrokerEndpoint& b : state.brokers) {
    if (b.id == p->second.leader) return {ErrorCode::NONE, std::nullopt, b.id, b.host, b.port};
  }
  return {ErrorCode::COORDINATOR_NOT_AVAILABLE, "the coordinator's broker is not registered"};
}

void Respond(RequestContext& ctx, const protocol::FindCoordinatorRequest& request,
             const std::function<Answer(const std::string& key)>& lookup) {
  protocol::FindCoordinatorResponse response;
  if (ctx.version() < 4) {
    Answer a = lookup(request.key);
    response.error_code = protocol::ToWire(a.error);
    response.error_message = a.message;
    response.node_id = a.node_id;
    response.host = a.host;
    response.port = a.port;
    ctx.RecordError(response.error_code);
  } else {
    for (const std::string& key : request.coordinator_keys) {
      Answer a = lookup(key);
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.error_code = protocol::ToWire(a.error);
      c.error_message = a.message;
      c.node_id = a.node_id;
      c.host = a.host;
      c.port = a.port;
      ctx.RecordError(c.error_code);
    }
  }
  ctx.Respond(response);
}

void RespondInCluster(RequestContext& ctx, const protocol::FindCoordinatorRequest& request) {
  const BrokerServices& services = *ctx.services;
  auto snapshot = services.metadata_cache->Current();
  auto topic = snapshot->topics.find(group::kOffsetsTopic);
  const cluster::TopicMetadata* metadata =
      topic == snapshot->topics.end() ? nullptr : &topic->second;
  const ClusterState state = CurrentClusterState(services);
  Respond(ctx, request, [&](const std::string& key) {
    return LookupInCluster(metadata, state, request.key_type, key);
  });
}

// A single node: this broker coordinates every group.
void RespondLocal(RequestContext& ctx, const protocol::FindCoordinatorRequest& request) {
  BrokerServices& services = *ctx.services;
  Respond(ctx, request, [&](const std::string&) { return LookupLocal(services, request.key_type); });
}

// On the metadata thread: creates the cluster's offsets topic, then answers
// (COORDINATOR_NOT_AVAILABLE until the controller has elected its leaders).
void CreateOffsetsTopicThenRespond(RequestContext& ctx,
                                   const protocol::FindCoordinatorRequest& request) {
  BrokerServices& services = *ctx.services;
  auto snapshot = services.metadata_cache->Current();
  if (snapshot->topics.count(group::kOffsetsTopic) == 0) {
    const ClusterState state = CurrentClusterState(services);
    NewTopic topic;
    topic.name = std::string(group::kOffsetsTopic);
    topic.partitions = services.config.GetInt("offsets.topic.num.partitions");
    topic.replication_factor = static_cast<int16_t>(std::clamp<int64_t>(
        std::min<int64_t>(services.config.GetInt("offsets.topic.replication.factor"),
                          static_cast<int64_t>(state.brokers.size())),
        1, INT16_MAX));
    topic.configs = {
        {"cleanup.policy", "compact"},
        {"segment.bytes", std::to_string(services.config.GetInt("offsets.topic.segment.bytes"))},
        {"compression.type", "producer"},
    };
    CreatedTopic created = services.cluster_admin->CreateTopic(topic);
    if (created.ok()) {
      spdlog::info("created {} with {} partitions, replication factor {}", topic.name,
                   topic.partitions, topic.replication_factor);
    } else if (created.error != ErrorCode::TOPIC_ALREADY_EXISTS) {
      spdlog::warn("creating {} failed: {}", topic.name, created.message);
    }
  }
  RespondInCluster(ctx, request);
}

}  // namespace

void HandleFindCoordinator(RequestContext ctx, protocol::FindCoordinatorRequest request) {
  BrokerServices& services = *ctx.services;
  if (services.metadata_cache == nullptr || services.cluster_admin == nullptr) {
    if (request.key_type == kGroupKey && !services.partitions.FindTopic(group::kOffsetsTopic)) {
      // The first group's lookup creates the offsets topic: disk work, off
      // the shard (metadata_task.h).
      RunAsMetadataTask(std::move(ctx), std::move(request), &RespondLocal);
      return;
    }
    RespondLocal(ctx, request);
    return;
  }
  if (request.key_type == kGroupKey &&
      services.metadata_cache->Current()->topics.count(group::kOffsetsTopic) == 0) {
    RunAsMetadataTask(std::move(ctx), std::move(request), &CreateOffsetsTopicThenRespond);
    return;
  }
  RespondInCluster(ctx, request);
}

}  // namespace sluice::api
