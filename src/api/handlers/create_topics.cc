// CreateTopics: partitions, replication factor 1 (a single node), configs,
// validate_only, or a manual replica assignment naming this broker (see
// replica_assignment.h). Each topic succeeds or fails on its own, with
// Kafka's codes. In a ZooKeeper cluster (BrokerServices::cluster_admin)
// CreateTopics goes to the cluster instead (cluster_admin.h);
// only the request-level checks stay here, and the answer waits for the new
// partitions' leaders (await_leaders.h).
#include <map>
#include <string>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "api/handlers/await_leaders.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "api/handlers/partition_limit.h"
#include "api/handlers/replica_assignment.h"
#include "cluster/topic_name.h"
#include "config/topic_config.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

// The checks Kafka makes before creating, each with its own error code;
// the partition manager checks them again, as the owner of the invariant.
std::optional<std::pair<ErrorCode, std::string>> Precheck(const std::string& name,
                                                          int32_t partitions, int16_t rf,
                                                          const std::map<std::string, std::string>& configs) {
  if (Status s = cluster::ValidateTopicName(name); !s.ok()) {
    return std::make_pair(ErrorCode::INVALID_TOPIC_EXCEPTION, s.message());
  }
  if (partitions <= 0) {
    return std::make_pair(ErrorCode::INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
  }
  if (rf <= 0) {
    return std::make_pair(ErrorCode::INVALID_REPLICATION_FACTOR,
                          "Replication factor must be larger than 0.");
  }
  if (rf > 1) {
    return std::make_pair(ErrorCode::INVALID_REPLICATION_FACTOR,
                          fmt::format("Replication factor: {} larger than available brokers: 1.", rf));
  }
  if (Status s = config::ValidateTopicOverrides(configs); !s.ok()) {
    return std::make_pair(ErrorCode::INVALID_CONFIG, s.message());
  }
  return std::nullopt;
}

std::vector<protocol::CreateTopicsResponse::CreatableTopicConfigs> DescribedConfigs(
    const config::BrokerConfig& broker, const std::map<std::string, std::string>& configs) {
  std::vector<protocol::CreateTopicsResponse::CreatableTopicConfigs> described;
  for (const auto& e : config::DescribeTopicConfig(broker, configs)) {
    auto& c = described.emplace_back();
    c.name = e.name;
    c.value = e.value;
    c.read_only = e.read_only;
    c.config_source = static_cast<int8_t>(e.source);
    c.is_sensitive = e.sensitive;
  }
  return described;
}

// One topic of the request in a ZooKeeper cluster.
void CreateInCluster(RequestContext& ctx, const protocol::CreateTopicsRequest::CreatableTopic& t,
                     bool validate_only, protocol::CreateTopicsResponse::CreatableTopicResult& r) {
  BrokerServices& services = *ctx.services;
  NewTopic topic;
  topic.name = t.name;
  topic.partitions = t.num_partitions;
  topic.replication_factor = t.replication_factor;
  topic.validate_only = validate_only;
  for (const auto& c : t.configs) {
    if (c.value) topic.configs[c.name] = *c.value;
  }
  if (!t.assignments.empty()) {
    // Kafka's checks, as on a single node below.
    if (t.replication_factor != -1) {
      r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
      r.error_message =
          "A manual partition assignment was specified, but replication factor was not set to -1.";
      return;
    }
    if (t.num_partitions != -1) {
      r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
      r.error_message =
          "A manual partition assignment was specified, but numPartitions was not set to -1.";
      return;
    }
    topic.assignment.emplace();
    for (const auto& a : t.assignments) {
      if (!topic.assignment->emplace(a.partition_index, a.broker_ids).second) {
        r.error_code = ToWire(ErrorCode::INVALID_REPLICA_ASSIGNMENT);
        r.error_message = fmt::format("Found multiple manual partition assignments for partition {}",
                                      a.partition_index);
        return;
      }
    }
  }
  CreatedTopic created = services.cluster_admin->CreateTopic(topic);
  if (!created.ok()) {
    r.error_code = ToWire(created.error);
    r.error_message = std::move(created.message);
    return;
  }
  r.topic_id.bytes = created.topic_id;
  r.num_partitions = created.partitions;
  r.replication_factor = created.replication_factor;
  if (ctx.version() >= 5) r.configs = DescribedConfigs(services.config, topic.configs);
}

void CreateTopicsNow(RequestContext& ctx, const protocol::CreateTopicsRequest& request) {
  BrokerServices& services = *ctx.services;
  protocol::CreateTopicsResponse response;
  std::map<std::string, int> seen;
  for (const auto& t : request.topics) ++seen[t.name];

  for (const auto& t : request.topics) {
    auto& r = response.topics.emplace_back();
    r.name = t.name;
    r.error_message = std::nullopt;
    if (seen[t.name] > 1) {
      r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
      r.error_message = "Create topics request from client contains a duplicate topic";
      continue;
    }
    if (services.cluster_admin != nullptr) {
      CreateInCluster(ctx, t, request.validate_only, r);
      continue;
    }
    // -1 means the broker default (KIP-464), or "given by assignments".
    int32_t partitions =
        t.num_partitions == -1 ? services.config.GetInt("num.partitions") : t.num_partitions;
    int16_t rf = t.replication_factor == -1
                     ? static_cast<int16_t>(services.config.GetInt("default.replication.factor"))
                     : t.replication_factor;
    std::map<std::string, std::string> configs;
    for (const auto& c : t.configs) {
      if (c.value) configs[c.name] = *c.value;
    }
    if (!t.assignments.empty()) {
      // Kafka's controller: the counts must be left to the assignment.
      if (t.replication_factor != -1) {
        r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
        r.error_message =
            "A manual partition assignment was specified, but replication factor was not set to -1.";
        continue;
      }
      if (t.num_partitions != -1) {
        r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
        r.error_message =
            "A manual partition assignment was specified, but numPartitions was not set to -1.";
        continue;
      }
      if (auto problem = CheckTopicAssignment(t.assignments, services.broker_id, &partitions, &rf)) {
        r.error_code = ToWire(problem->code);
        r.error_message = std::move(problem->message);
        continue;
      }
    }
    if (auto problem = Precheck(t.name, partitions, rf, configs)) {
      r.error_code = ToWire(problem->first);
      r.error_message = problem->second;
      continue;
    }
    auto created = services.partitions.CreateTopic(t.name, partitions, rf, configs,
                                                   request.validate_only);
    if (!created.ok()) {
      const Status& s = created.status();
      r.error_code = ToWire(s.code() == StatusCode::kAlreadyExists ? ErrorCode::TOPIC_ALREADY_EXISTS
                            : s.code() == StatusCode::kInvalidArgument
                                ? ErrorCode::INVALID_TOPIC_EXCEPTION
                            : s.code() == StatusCode::kOutOfRange
                                ? PartitionLimitError()
                                : ErrorCode::UNKNOWN_SERVER_ERROR);
      r.error_message = s.message();
      continue;
    }
    r.topic_id.bytes = created->id;
    r.num_partitions = created->partition_count;
    r.replication_factor = created->replication_factor;
    if (ctx.version() >= 5) r.configs = DescribedConfigs(services.config, configs);
  }
  std::map<std::string, int32_t> created;
  if (services.cluster_admin != nullptr && !request.validate_only) {
    for (const auto& t : response.topics) {
      if (t.error_code == 0) created[t.name] = t.num_partitions;
    }
  }
  // In a cluster, answered once the controller has given every new
  // partition a leader (await_leaders.h).
  RespondWhenLed(std::move(ctx), std::move(response), &protocol::CreateTopicsResponse::topics,
                 std::move(created), request.timeout_ms);
}

}  // namespace

// Creates logs (disk I/O), or writes ZooKeeper in a cluster: runs on the
// metadata thread (metadata_task.h).
void HandleCreateTopics(RequestContext ctx, protocol::CreateTopicsRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &CreateTopicsNow);
}

}  // namespace sluice::api
