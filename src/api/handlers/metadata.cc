// Metadata: brokers, topics and partition leaders. The brokers and the
// controller are the cluster's (cluster_state.h). On a single node the
// topics are this broker's own and it leads every partition; unknown topics
// (not internal ones) are auto-created when both the broker
// (auto.create.topics.enable) and the request (v4+) allow it, on the
// metadata thread since that is disk work (metadata_task.h). In a cluster
// every topic of the cluster is described from the metadata cache (the
// controller's UpdateMetadata):
// leader, leader epoch, replicas, ISR and offline replicas of each
// partition, LEADER_NOT_AVAILABLE for one without a live leader
// (cluster_topic_metadata.h). That answer is built in its turn on the
// connection (RequestContext::RespondInTurn), not when the request is read:
// behind an acks=all produce waiting seconds for a dead follower to leave
// the ISR, an answer built at once would name the dead leader after the
// controller had moved on, and a client told the new leader just before
// (librdkafka 2.0 does not compare leader epochs) went back to the dead one
// for good.
//
// Auto-creation in a cluster, as Kafka's ZooKeeper-mode brokers do it: an
// unknown topic (a valid name, not an internal one) is created through
// ClusterAdmin::CreateTopic with the broker's num.partitions and
// default.replication.factor, replicas over the live brokers, and answered
// LEADER_NOT_AVAILABLE: the controller elects its leaders meanwhile and the
// client asks again. Another broker creating it at the same moment is the
// same answer (the loser's TOPIC_ALREADY_EXISTS); any other failure is the
// topic's error (INVALID_REPLICATION_FACTOR with fewer live brokers than
// the factor). Creating writes ZooKeeper, so a request that needs it is
// finished on the metadata thread (metadata_task.h). Internal topics are
// not made here: FindCoordinator creates __consumer_offsets with its own
// settings. Produce never auto-creates (as in Kafka).
//
// A broker that has not yet heard from the controller (just started, or
// restarted and still waiting for its previous ZooKeeper session to
// expire) does not know which topics exist. Its answer waits for the
// controller's first UpdateMetadata, up to kUninformedWait; past that it
// answers a topic it does not know LEADER_NOT_AVAILABLE (retriable) and
// creates nothing. Answering UNKNOWN_TOPIC_OR_PARTITION there made
// librdkafka drop every partition of a live topic, and auto-creating found
// "too few brokers" and failed queued messages with
// INVALID_REPLICATION_FACTOR.
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/handlers/await_metadata.h"
#include "api/handlers/cluster_state.h"
#include "api/handlers/cluster_topic_metadata.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "cluster/metadata_cache.h"
#include "cluster/topic_name.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::MetadataResponse;
using protocol::ToWire;

// How long an uninformed broker's answer waits for the controller (see the
// top of the file). It covers the moment between registering and the
// controller's first UpdateMetadata; a broker still waiting for its old
// session to expire (seconds) answers after it, as a client would not wait
// that long for one Metadata answer (librdkafka sends one at a time).
constexpr std::chrono::milliseconds kUninformedWait{1000};

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

// The brokers, the cluster id and the controller (cluster_state.h).
void DescribeBrokers(const BrokerServices& services, MetadataResponse& response) {
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
}

MetadataResponse::MetadataResponseTopic TopicError(const std::optional<std::string>& name,
                                                   ErrorCode error) {
  MetadataResponse::MetadataResponseTopic t;
  t.name = name;
  t.error_code = ToWire(error);
  return t;
}

void RecordAndRespond(RequestContext& ctx, const MetadataResponse& response) {
  for (const auto& t : response.topics) {
    ctx.RecordError(t.error_code);
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

// A cluster Metadata answer waiting for the topics it auto-creates.
struct PendingCreates {
  RequestContext ctx;
  MetadataResponse response;
  std::vector<size_t> missing;  // indexes into response.topics
};

// On the metadata thread: creates each missing topic in ZooKeeper (see the
// top of the file), then answers.
void CreateMissingTopics(PendingCreates& pending) {
  BrokerServices& services = *pending.ctx.services;
  for (size_t i : pending.missing) {
    MetadataResponse::MetadataResponseTopic& t = pending.response.topics[i];
    NewTopic topic;
    topic.name = *t.name;  // -1 counts: num.partitions, default.replication.factor
    CreatedTopic created = services.cluster_admin->CreateTopic(topic);
    if (created.ok()) {
      spdlog::info("auto-created topic {} in the cluster: {} partitions, replication factor {}",
                   topic.name, created.partitions, created.replication_factor);
      t.error_code = ToWire(ErrorCode::LEADER_NOT_AVAILABLE);
    } else if (created.error == ErrorCode::TOPIC_ALREADY_EXISTS) {
      // Created meanwhile, by another request or broker: its leaders come.
      t.error_code = ToWire(ErrorCode::LEADER_NOT_AVAILABLE);
    } else {
      spdlog::warn("auto-creating topic {} failed: {}", topic.name, created.message);
      t.error_code = ToWire(created.error);
    }
  }
  RecordAndRespond(pending.ctx, pending.response);
}

void RecordErrors(const TimedResponder::ErrorRecorder& errors, const MetadataResponse& response) {
  for (const auto& t : response.topics) {
    errors.RecordError(t.error_code);
    for (const auto& p : t.partitions) errors.RecordError(p.error_code);
  }
}

// The cluster's brokers and controller, and the topics asked for, as this
// broker knows them now. `missing` (if not null) gets the indexes of the
// topics to auto-create.
MetadataResponse ClusterAnswer(const BrokerServices& services,
                               const protocol::MetadataRequest& request, bool all_topics,
                               bool auto_create, std::vector<size_t>* missing) {
  MetadataResponse response;
  DescribeBrokers(services, response);
  std::set<int32_t> live;
  for (const auto& b : response.brokers) live.insert(b.node_id);
  std::shared_ptr<const cluster::MetadataSnapshot> snapshot = services.metadata_cache->Current();
  if (all_topics) {
    for (const auto& [name, topic] : snapshot->topics) {
      response.topics.push_back(DescribeClusterTopic(name, topic, live));
    }
    return response;
  }
  for (const auto& wanted : *request.topics) {
    if (!wanted.name) {
      response.topics.push_back(TopicError(std::nullopt, ErrorCode::UNKNOWN_TOPIC_ID));
    } else if (auto it = snapshot->topics.find(*wanted.name); it != snapshot->topics.end()) {
      response.topics.push_back(DescribeClusterTopic(it->first, it->second, live));
    } else if (!cluster::ValidateTopicName(*wanted.name).ok()) {
      response.topics.push_back(TopicError(wanted.name, ErrorCode::INVALID_TOPIC_EXCEPTION));
    } else if (!snapshot->informed) {
      // It may well exist (top of the file): ask again.
      response.topics.push_back(TopicError(wanted.name, ErrorCode::LEADER_NOT_AVAILABLE));
    } else {
      if (missing != nullptr && auto_create && !cluster::IsInternalTopic(*wanted.name)) {
        missing->push_back(response.topics.size());
      }
      response.topics.push_back(TopicError(wanted.name, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
    }
  }
  return response;
}

// Whether a request naming `request.topics` would auto-create one: a valid,
// non-internal name that `holds` says is not there.
bool WouldCreate(const protocol::MetadataRequest& request,
                 const std::function<bool(const std::string&)>& holds) {
  for (const auto& wanted : *request.topics) {
    if (wanted.name && !holds(*wanted.name) && cluster::ValidateTopicName(*wanted.name).ok() &&
        !cluster::IsInternalTopic(*wanted.name)) {
      return true;
    }
  }
  return false;
}

// Whether the broker (auto.create.topics.enable) and the request (v4+)
// both allow creating the unknown topics it names.
bool AutoCreateAllowed(const RequestContext& ctx, const protocol::MetadataRequest& request) {
  return ctx.services->config.GetBool("auto.create.topics.enable") &&
         (ctx.version() < 4 || request.allow_auto_topic_creation);
}

// In a cluster: answers in its turn on the connection, or, when the request
// makes it create topics, on the metadata thread once they are created.
// REQUIRES: the cache is informed, or the wait for it is over.
void RespondInCluster(RequestContext& ctx, protocol::MetadataRequest request, bool all_topics) {
  const BrokerServices& services = *ctx.services;
  const bool auto_create = services.cluster_admin != nullptr && AutoCreateAllowed(ctx, request);
  std::shared_ptr<const cluster::MetadataSnapshot> snapshot = services.metadata_cache->Current();
  if (!all_topics && auto_create && snapshot->informed &&
      WouldCreate(request, [&](const std::string& t) { return snapshot->topics.contains(t); })) {
    std::vector<size_t> missing;
    MetadataResponse response = ClusterAnswer(services, request, all_topics, auto_create, &missing);
    // Shared: the task is a copyable std::function; the context is move-only.
    auto pending = std::make_shared<PendingCreates>(
        PendingCreates{std::move(ctx), std::move(response), std::move(missing)});
    cluster::PartitionManager& partitions = pending->ctx.services->partitions;
    partitions.RunMetadataTask([pending] { CreateMissingTopics(*pending); });
    return;
  }
  ctx.RespondInTurn<MetadataResponse>(
      [services = ctx.services, request = std::move(request), all_topics](
          const TimedResponder::ErrorRecorder& errors) {
        MetadataResponse response =
            ClusterAnswer(*services, request, all_topics, /*auto_create=*/false, nullptr);
        RecordErrors(errors, response);
        return response;
      });
}

// Whether the request asks for every topic: v0's empty list or v1+'s null.
bool AllTopics(const RequestContext& ctx, const protocol::MetadataRequest& request) {
  return !request.topics.has_value() || (ctx.version() == 0 && request.topics->empty());
}

// A single node's answer, from its partition manager, creating the unknown
// topics the request names where auto-creation is on. Runs on the shard,
// or on the metadata thread when it creates.
void RespondSingleNode(RequestContext& ctx, const protocol::MetadataRequest& request) {
  BrokerServices& services = *ctx.services;
  const bool all_topics = AllTopics(ctx, request);
  MetadataResponse response;
  DescribeBrokers(services, response);

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

  const bool auto_create = AutoCreateAllowed(ctx, request);
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
    if (!auto_create || cluster::IsInternalTopic(name)) {
      // Internal topics have their own settings; FindCoordinator makes them.
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

}  // namespace

void HandleMetadata(RequestContext ctx, protocol::MetadataRequest request) {
  BrokerServices& services = *ctx.services;
  const bool all_topics = AllTopics(ctx, request);
  if (services.metadata_cache != nullptr) {
    if (services.metadata_cache->Current()->informed) {
      RespondInCluster(ctx, std::move(request), all_topics);
      return;
    }
    // Not yet told by the controller (top of the file): wait for it.
    // Shared: the callback is a copyable std::function; the context is
    // move-only.
    auto held = std::make_shared<std::pair<RequestContext, protocol::MetadataRequest>>(
        std::move(ctx), std::move(request));
    AwaitMetadata(
        *services.metadata_cache, services.timers,
        [](const cluster::MetadataSnapshot& s) { return s.informed; }, kUninformedWait,
        [held, all_topics](bool) {
          RespondInCluster(held->first, std::move(held->second), all_topics);
        });
    return;
  }
  if (!all_topics && AutoCreateAllowed(ctx, request) &&
      WouldCreate(request, [&](const std::string& t) {
        return services.partitions.FindTopic(t).has_value();
      })) {
    // Creating logs and syncing the topic table is disk work: off the
    // shard (metadata_task.h).
    RunAsMetadataTask(std::move(ctx), std::move(request), &RespondSingleNode);
    return;
  }
  RespondSingleNode(ctx, request);
}

}  // namespace sluice::api
