// DescribeConfigs: topic configs (overrides plus the broker's defaults) and
// this broker's static config. Per version: v0 has is_default instead of
// config_source, synonyms from v1 (when asked), config_type and
// documentation from v3 (documentation only when asked).
//
// In a cluster a topic's overrides are read from ZooKeeper
// (/config/topics/<t>, ClusterAdmin::DescribeTopicConfig), not from this
// broker's partitions: every broker answers with the cluster's state, the
// one AlterConfigs writes, including brokers that host no replica of the
// topic and right after a change, before the notification reached them
// (Kafka's ZooKeeper-mode brokers read the same node). That costs
// ZooKeeper round trips, so such a request runs on the metadata thread
// (metadata_task.h).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "api/handlers/config_resources.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "cluster/topic_name.h"
#include "config/topic_config.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;
using ResourceResult = protocol::DescribeConfigsResponse::DescribeConfigsResult;
using Row = protocol::DescribeConfigsResponse::DescribeConfigsResourceResult;

void AddRows(const std::vector<config::ConfigEntry>& entries, int8_t resource_type,
             const std::optional<std::vector<std::string>>& keys, bool synonyms,
             bool documentation, int16_t version, ResourceResult& out) {
  // Null or empty lists every key, as in Kafka (some clients send []).
  const bool filter = keys && !keys->empty();
  std::set<std::string_view> wanted;
  if (filter) wanted.insert(keys->begin(), keys->end());
  for (const config::ConfigEntry& e : entries) {
    if (filter && !wanted.contains(e.name)) continue;
    Row& row = out.configs.emplace_back();
    row.name = e.name;
    row.value = e.value;
    row.read_only = e.read_only;
    row.is_sensitive = e.sensitive;
    // v0: a topic key is "default" unless the topic overrides it; a broker
    // key unless set in the properties file or by an override (Kafka 1.0).
    row.is_default = resource_type == kTopicResource
                         ? e.source != config::ConfigSource::kDynamicTopic
                         : e.source == config::ConfigSource::kDefault;
    row.config_source = static_cast<int8_t>(e.source);
    if (synonyms && version >= 1) {
      for (const config::ConfigSynonym& s : e.synonyms) {
        auto& syn = row.synonyms.emplace_back();
        syn.name = s.name;
        syn.value = s.value;
        syn.source = static_cast<int8_t>(s.source);
      }
    }
    row.config_type = static_cast<int8_t>(e.type);
    row.documentation = std::nullopt;
    if (documentation && !e.documentation.empty()) row.documentation = e.documentation;
  }
}

void DescribeConfigsNow(RequestContext& ctx, const protocol::DescribeConfigsRequest& request) {
  BrokerServices& services = *ctx.services;
  const int16_t version = ctx.version();
  const bool synonyms = version >= 1 && request.include_synonyms;
  const bool documentation = version >= 3 && request.include_documentation;
  protocol::DescribeConfigsResponse response;
  for (const auto& res : request.resources) {
    ResourceResult& r = response.results.emplace_back();
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    auto fail = [&r](ErrorCode code, std::string message) {
      r.error_code = ToWire(code);
      r.error_message = std::move(message);
    };
    if (res.resource_type == kTopicResource) {
      if (Status s = cluster::ValidateTopicName(res.resource_name); !s.ok()) {
        fail(ErrorCode::INVALID_TOPIC_EXCEPTION, s.message());
        continue;
      }
      std::map<std::string, std::string> overrides;
      if (services.cluster_admin != nullptr) {
        TopicConfigs read = services.cluster_admin->DescribeTopicConfig(res.resource_name);
        if (!read.ok()) {
          fail(read.error, std::move(read.message));
          continue;
        }
        overrides = std::move(read.overrides);
      } else {
        auto info = services.partitions.FindTopic(res.resource_name);
        if (!info) {
          fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
               fmt::format("Topic '{}' does not exist.", res.resource_name));
          continue;
        }
        overrides = std::move(info->configs);
      }
      AddRows(config::DescribeTopicConfig(services.config, overrides), res.resource_type,
              res.configuration_keys, synonyms, documentation, version, r);
    } else if (res.resource_type == kBrokerResource) {
      BrokerTarget target = ResolveBroker(res.resource_name, services.broker_id);
      if (!target.error.empty()) {
        fail(ErrorCode::INVALID_REQUEST, target.error);
        continue;
      }
      // In a cluster the dynamic broker configs (config_resources.h) come
      // from ZooKeeper: this broker's own over every broker's defaults over
      // the properties file.
      std::map<std::string, std::string> own;
      std::map<std::string, std::string> defaults;
      if (services.cluster_admin != nullptr) {
        TopicConfigs d = services.cluster_admin->DescribeBrokerConfig(kDefaultBrokerEntity);
        TopicConfigs o = target.is_default
                             ? TopicConfigs{}
                             : services.cluster_admin->DescribeBrokerConfig(res.resource_name);
        if (!d.ok() || !o.ok()) {
          const TopicConfigs& bad = d.ok() ? o : d;
          fail(bad.error, bad.message);
          continue;
        }
        own = std::move(o.overrides);
        defaults = std::move(d.overrides);
      }
      std::vector<config::ConfigEntry> rows = services.config.Describe();
      OverlayDynamicBrokerConfigs(rows, own, defaults);
      // The cluster-wide default resource ("") lists only the dynamic
      // default broker configs, as Kafka does.
      if (target.is_default) {
        std::erase_if(rows, [](const config::ConfigEntry& e) {
          return e.source != config::ConfigSource::kDynamicDefaultBroker;
        });
      }
      AddRows(rows, res.resource_type, res.configuration_keys, synonyms, documentation, version, r);
    } else {
      fail(ErrorCode::INVALID_REQUEST,
           fmt::format("Unsupported resource type: {}", static_cast<int>(res.resource_type)));
    }
  }
  for (const auto& r : response.results) ctx.RecordError(r.error_code);
  ctx.Respond(response);
}

}  // namespace

void HandleDescribeConfigs(RequestContext ctx, protocol::DescribeConfigsRequest request) {
  const bool topics_in_zookeeper =
      ctx.services->cluster_admin != nullptr &&
      std::any_of(request.resources.begin(), request.resources.end(), [](const auto& res) {
        return res.resource_type == kTopicResource || res.resource_type == kBrokerResource;
      });
  if (topics_in_zookeeper) {
    RunAsMetadataTask(std::move(ctx), std::move(request), &DescribeConfigsNow);
    return;
  }
  DescribeConfigsNow(ctx, request);
}

}  // namespace sluice::api
