// AlterConfigs: replaces the whole override set of a topic (keys not listed
// go back to the broker default), validate_only. A BROKER resource (this
// broker's id, or "" for every broker's defaults) takes only the dynamic
// broker configs (config_resources.h), and only in a cluster, where they are
// written to ZooKeeper for the brokers to apply
// (ClusterAdmin::AlterBrokerConfig); other keys, or a single node, get
// INVALID_REQUEST, the code Kafka uses for broker configs that cannot be
// updated dynamically. An internal topic
// must keep compaction (InternalTopicConfigProblem, config_resources.h).
// In a cluster the overrides are written to ZooKeeper, from where every
// broker hosting the topic applies them (ClusterAdmin::AlterTopicConfig).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "api/handlers/config_resources.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "protocol/error_code.h"

namespace sluice::api {

using protocol::ErrorCode;
using protocol::ToWire;

namespace {

void AlterConfigsNow(RequestContext& ctx, const protocol::AlterConfigsRequest& request) {
  BrokerServices& services = *ctx.services;
  protocol::AlterConfigsResponse response;
  std::map<std::pair<int8_t, std::string>, int> seen;
  for (const auto& res : request.resources) ++seen[{res.resource_type, res.resource_name}];

  for (const auto& res : request.resources) {
    auto& r = response.responses.emplace_back();
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    auto fail = [&r](ErrorCode code, std::string message) {
      r.error_code = ToWire(code);
      r.error_message = std::move(message);
    };
    if (seen[{res.resource_type, res.resource_name}] > 1) {
      fail(ErrorCode::INVALID_REQUEST, "Duplicate resource in request.");
      continue;
    }
    if (res.resource_type == kBrokerResource) {
      BrokerTarget target = ResolveBroker(res.resource_name, services.broker_id);
      if (!target.error.empty() || services.cluster_admin == nullptr) {
        fail(ErrorCode::INVALID_REQUEST,
             target.error.empty() ? kNoDynamicBrokerConfigs : target.error);
        continue;
      }
      // The whole set is replaced (keys not listed go back to the static value).
      std::map<std::string, std::string> configs;
      for (const auto& c : res.configs) {
        if (c.value) configs[c.name] = *c.value;
      }
      AdminOutcome outcome = services.cluster_admin->AlterBrokerConfig(
          target.is_default ? kDefaultBrokerEntity : res.resource_name,
          [&](std::map<std::string, std::string>& overrides) {
            overrides = configs;
            AdminOutcome verdict;
            if (auto problem = BrokerOverridesProblem(configs)) {
              verdict.error = problem->code;
              verdict.message = std::move(problem->message);
            }
            return verdict;
          },
          request.validate_only);
      if (!outcome.ok()) fail(outcome.error, std::move(outcome.message));
      continue;
    }
    if (res.resource_type != kTopicResource) {
      fail(ErrorCode::INVALID_REQUEST,
           fmt::format("AlterConfigs is only supported for topics and brokers, but resource type "
                       "is {}", static_cast<int>(res.resource_type)));
      continue;
    }
    if (services.cluster_admin != nullptr) {
      // A cluster topic: its overrides live in ZooKeeper, which checks
      // that it exists (cluster_admin.h).
      std::map<std::string, std::string> configs;
      std::optional<std::string> duplicate;
      for (const auto& c : res.configs) {
        if (c.value && !configs.emplace(c.name, *c.value).second) duplicate = c.name;
      }
      if (duplicate) {
        fail(ErrorCode::INVALID_REQUEST,
             fmt::format("Duplicate config keys in request: {}", *duplicate));
        continue;
      }
      AdminOutcome outcome = services.cluster_admin->AlterTopicConfig(
          res.resource_name,
          [&](std::map<std::string, std::string>& overrides) {
            overrides = configs;
            AdminOutcome verdict;
            auto problem = InternalTopicConfigProblem(res.resource_name, services.config, configs);
            if (!problem) problem = TopicOverridesProblem(services.config, configs);
            if (problem) {
              verdict.error = ErrorCode::INVALID_CONFIG;
              verdict.message = std::move(*problem);
            }
            return verdict;
          },
          request.validate_only);
      if (!outcome.ok()) fail(outcome.error, std::move(outcome.message));
      continue;
    }
    if (!services.partitions.FindTopic(res.resource_name)) {
      fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
           fmt::format("Topic '{}' does not exist.", res.resource_name));
      continue;
    }
    std::map<std::string, std::string> configs;
    std::set<std::string> duplicate;
    for (const auto& c : res.configs) {
      if (!c.value) continue;  // Kafka drops null values: the key reverts to its default.
      if (!configs.emplace(c.name, *c.value).second) duplicate.insert(c.name);
    }
    if (!duplicate.empty()) {
      fail(ErrorCode::INVALID_REQUEST,
           fmt::format("Duplicate config keys in request: {}", *duplicate.begin()));
      continue;
    }
    if (auto problem = InternalTopicConfigProblem(res.resource_name, services.config, configs)) {
      fail(ErrorCode::INVALID_CONFIG, *problem);
      continue;
    }
    Status s = services.partitions.SetTopicConfigs(res.resource_name, configs, request.validate_only);
    if (s.IsNotFound()) {
      fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, s.message());
    } else if (s.code() == StatusCode::kInvalidArgument) {
      fail(ErrorCode::INVALID_CONFIG, s.message());
    } else if (!s.ok()) {
      fail(ErrorCode::UNKNOWN_SERVER_ERROR, s.message());
    }
  }
  for (const auto& r : response.responses) ctx.RecordError(r.error_code);
  ctx.Respond(response);
}

}  // namespace

// Syncs the topic table: runs on the metadata thread (metadata_task.h).
void HandleAlterConfigs(RequestContext ctx, protocol::AlterConfigsRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &AlterConfigsNow);
}

}  // namespace sluice::api
