// IncrementalAlterConfigs: SET / DELETE / APPEND / SUBTRACT on single keys of
// a topic's overrides. All operations on one resource are validated together
// and written with one UpdateTopicConfigs call, or none is. APPEND and SUBTRACT
// apply to list keys only (cleanup.policy); they start from the effective
// value (the override, else the broker default). BROKER resources: see
// alter_configs.cc (in a cluster, the dynamic broker configs). An internal
// topic must keep compaction (InternalTopicConfigProblem, config_resources.h).
// In a cluster the edit is made on the overrides in ZooKeeper, from where
// every broker hosting the topic applies them (ClusterAdmin::AlterTopicConfig).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/handlers/config_resources.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "config/topic_config.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

enum Op : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

struct Problem {
  ErrorCode code;
  std::string message;
};

using AlterableConfig = protocol::IncrementalAlterConfigsRequest::AlterableConfig;

// Applies `ops` to `overrides`; the result is validated by the caller.
std::optional<Problem> Apply(const std::vector<AlterableConfig>& ops,
                             const config::BrokerConfig& broker,
                             std::map<std::string, std::string>& overrides) {
  std::set<std::string_view> keys;
  for (const AlterableConfig& op : ops) {
    if (!keys.insert(op.name).second) {
      return Problem{ErrorCode::INVALID_REQUEST,
                     fmt::format("Error due to duplicate config keys: {}", op.name)};
    }
  }
  std::map<std::string, config::ConfigEntry> defaults;
  for (const AlterableConfig& op : ops) {
    if (op.config_operation < kSet || op.config_operation > kSubtract) {
      return Problem{ErrorCode::INVALID_REQUEST,
                     fmt::format("Unknown config operation {} for {}",
                                 static_cast<int>(op.config_operation), op.name)};
    }
    if (op.config_operation == kDelete) {
      overrides.erase(op.name);
      continue;
    }
    if (!op.value) {
      return Problem{ErrorCode::INVALID_REQUEST,
                     fmt::format("Null value not supported for : {}", op.name)};
    }
    if (op.config_operation == kSet) {
      overrides[op.name] = *op.value;
      continue;
    }
    const char* verb = op.config_operation == kAppend ? "append" : "subtract";
    const config::ConfigDef* def = config::TopicConfigRegistry().Find(op.name);
    if (def == nullptr) {
      return Problem{ErrorCode::INVALID_CONFIG, fmt::format("Unknown topic config name: {}", op.name)};
    }
    if (def->type != config::ConfigType::kList) {
      return Problem{ErrorCode::INVALID_CONFIG,
                     fmt::format("Config value {} is not allowed for config key: {}", verb, op.name)};
    }
    std::vector<std::string> current;
    if (auto it = overrides.find(op.name); it != overrides.end()) {
      current = SplitList(it->second);
    } else {
      if (defaults.empty()) defaults = config::TopicDefaultsFromBroker(broker);
      auto d = defaults.find(op.name);
      if (d != defaults.end() && d->second.value) current = SplitList(*d->second.value);
    }
    for (const std::string& item : SplitList(*op.value)) {
      auto at = std::find(current.begin(), current.end(), item);
      if (op.config_operation == kAppend && at == current.end()) current.push_back(item);
      if (op.config_operation == kSubtract && at != current.end()) current.erase(at);
    }
    overrides[op.name] = fmt::format("{}", fmt::join(current, ","));
  }
  return std::nullopt;
}

void IncrementalAlterConfigsNow(RequestContext& ctx, const protocol::IncrementalAlterConfigsRequest& request) {
  BrokerServices& services = *ctx.services;
  protocol::IncrementalAlterConfigsResponse response;
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
      // The dynamic broker configs are numbers: no list to append to.
      std::optional<std::string> not_a_list;
      for (const AlterableConfig& op : res.configs) {
        if (op.config_operation == kAppend || op.config_operation == kSubtract) {
          not_a_list = fmt::format("Config value {} is not allowed for config key: {}",
                                   op.config_operation == kAppend ? "append" : "subtract", op.name);
        }
      }
      if (not_a_list) {
        fail(ErrorCode::INVALID_CONFIG, std::move(*not_a_list));
        continue;
      }
      AdminOutcome outcome = services.cluster_admin->AlterBrokerConfig(
          target.is_default ? kDefaultBrokerEntity : res.resource_name,
          [&](std::map<std::string, std::string>& overrides) {
            AdminOutcome verdict;
            if (std::optional<Problem> problem = Apply(res.configs, services.config, overrides)) {
              verdict.error = problem->code;
              verdict.message = std::move(problem->message);
            } else if (auto invalid = BrokerOverridesProblem(overrides)) {
              verdict.error = invalid->code;
              verdict.message = std::move(invalid->message);
            }
            return verdict;
          },
          request.validate_only);
      if (!outcome.ok()) fail(outcome.error, std::move(outcome.message));
      continue;
    }
    if (res.resource_type != kTopicResource) {
      fail(ErrorCode::INVALID_REQUEST,
           fmt::format("IncrementalAlterConfigs is only supported for topics and brokers, but "
                       "resource type is {}", static_cast<int>(res.resource_type)));
      continue;
    }
    if (services.cluster_admin != nullptr) {
      // A cluster topic: read, edit and write in ZooKeeper, conditional on
      // the version read, so concurrent requests through any brokers do not
      // lose each other's changes (cluster_admin.h).
      AdminOutcome outcome = services.cluster_admin->AlterTopicConfig(
          res.resource_name,
          [&](std::map<std::string, std::string>& overrides) {
            AdminOutcome verdict;
            std::optional<Problem> problem = Apply(res.configs, services.config, overrides);
            if (!problem) {
              auto invalid =
                  InternalTopicConfigProblem(res.resource_name, services.config, overrides);
              if (!invalid) invalid = TopicOverridesProblem(services.config, overrides);
              if (invalid) problem = Problem{ErrorCode::INVALID_CONFIG, std::move(*invalid)};
            }
            if (problem) {
              verdict.error = problem->code;
              verdict.message = std::move(problem->message);
            }
            return verdict;
          },
          request.validate_only);
      if (!outcome.ok()) fail(outcome.error, std::move(outcome.message));
      continue;
    }
    // Read, edit and write under the partition manager's lock: concurrent
    // requests on one topic do not lose each other's changes.
    std::optional<Problem> problem;
    Status s = services.partitions.UpdateTopicConfigs(
        res.resource_name,
        [&](std::map<std::string, std::string>& overrides) {
          problem = Apply(res.configs, services.config, overrides);
          if (!problem) {
            if (auto internal =
                    InternalTopicConfigProblem(res.resource_name, services.config, overrides)) {
              problem = Problem{ErrorCode::INVALID_CONFIG, std::move(*internal)};
            }
          }
          return problem ? Status::Aborted("refused") : Status::Ok();
        },
        request.validate_only);
    if (problem) {
      fail(problem->code, problem->message);
      continue;
    }
    if (s.IsNotFound()) {
      fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
           fmt::format("Topic '{}' does not exist.", res.resource_name));
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
void HandleIncrementalAlterConfigs(RequestContext ctx, protocol::IncrementalAlterConfigsRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &IncrementalAlterConfigsNow);
}

}  // namespace sluice::api
