// What the config handlers (DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs) share: Kafka's resource type numbers, the check
// of a BROKER resource's name, the rule internal topics' configs keep, and
// the checks of a cluster topic's new overrides.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cluster/topic_name.h"
#include "config/broker_config.h"
#include "config/topic_config.h"
#include "protocol/error_code.h"

namespace sluice::api {

constexpr int8_t kTopicResource = 2;   // ConfigResource.Type.TOPIC
constexpr int8_t kBrokerResource = 4;  // ConfigResource.Type.BROKER

struct BrokerTarget {
  bool is_default = false;  // "": the cluster-wide default resource.
  std::string error;        // Non-empty: INVALID_REQUEST with this message (Kafka's).
};

inline BrokerTarget ResolveBroker(const std::string& name, int32_t broker_id) {
  BrokerTarget t;
  if (name.empty()) {
    t.is_default = true;
    return t;
  }
  int32_t id = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc() || end != name.data() + name.size()) {
    t.error = fmt::format("Broker id must be an integer, but it is: {}", name);
  } else if (id != broker_id) {
    t.error = fmt::format("Unexpected broker id, expected {} or empty string, but received {}",
                          broker_id, name);
  }
  return t;
}

// Broker configs that change at run time, in a cluster: Kafka's dynamic
// broker configs, of which Sluice has the replication throttles. They are
// written to /config/brokers/<id> (or <default>, for every broker) and
// applied by the brokers they name; the rest are read-only (set in the
// properties file).
constexpr char kDefaultBrokerEntity[] = "<default>";
constexpr char kNoDynamicBrokerConfigs[] =
    "Dynamic broker configs need a cluster (zookeeper.connect); on a single node set them in the "
    "properties file and restart the broker.";
inline bool IsDynamicBrokerConfig(std::string_view key) {
  return key == "leader.replication.throttled.rate" ||
         key == "follower.replication.throttled.rate";
}

struct ConfigProblem {
  protocol::ErrorCode code;  // INVALID_REQUEST or INVALID_CONFIG
  std::string message;
};

// What is wrong with a broker's whole new set of dynamic `overrides`, if
// anything: a key that cannot change at run time (INVALID_REQUEST, Kafka's
// "Cannot update these configs dynamically"), or a value its definition
// refuses (INVALID_CONFIG).
inline std::optional<ConfigProblem> BrokerOverridesProblem(
    const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> fixed;
  for (const auto& [key, value] : overrides) {
    if (!IsDynamicBrokerConfig(key)) fixed.push_back(key);
  }
  if (!fixed.empty()) {
    return ConfigProblem{protocol::ErrorCode::INVALID_REQUEST, fmt::format("Cannot update these configs dynamically: {}; set them "
                                           "in the properties file and restart the broker.",
                                           fmt::join(fixed, ", "))};
  }
  for (const auto& [key, value] : overrides) {
    const config::ConfigDef* def = config::BrokerConfigRegistry().Find(key);
    auto parsed = config::ParseConfigValue(*def, value);
    if (!parsed.ok()) {
      return ConfigProblem{protocol::ErrorCode::INVALID_CONFIG, parsed.status().message()};
    }
  }
  return std::nullopt;
}

// Makes the DescribeConfigs rows of a broker (`rows`: its static config)
// show the dynamic values in force: this broker's `own`, else every
// broker's `defaults`, each listed first among the synonyms, and the
// dynamic keys as not read-only.
inline void OverlayDynamicBrokerConfigs(std::vector<config::ConfigEntry>& rows,
                                        const std::map<std::string, std::string>& own,
                                        const std::map<std::string, std::string>& defaults) {
  for (config::ConfigEntry& e : rows) {
    if (!IsDynamicBrokerConfig(e.name)) continue;
    e.read_only = false;
    auto d = defaults.find(e.name);
    if (d != defaults.end()) {
      e.value = d->second;
      e.source = config::ConfigSource::kDynamicDefaultBroker;
      e.synonyms.insert(e.synonyms.begin(),
                        config::ConfigSynonym{e.name, d->second, e.source});
    }
    auto o = own.find(e.name);
    if (o != own.end()) {
      e.value = o->second;
      e.source = config::ConfigSource::kDynamicBroker;
      e.synonyms.insert(e.synonyms.begin(), config::ConfigSynonym{e.name, o->second, e.source});
    }
  }
}

// Internal topics (cluster::IsInternalTopic) keep their state only as long
// as they are compacted: with a cleanup.policy without compact, retention
// would delete __consumer_offsets' committed offsets. Returns the
// INVALID_CONFIG message if `overrides` (the topic's whole new override set)
// would leave `topic` without compaction. Kafka's broker has no such check;
// INVALID_CONFIG is its code for a config value it refuses. Overrides that
// are invalid anyway are left to the usual validation (nullopt).
inline std::optional<std::string> InternalTopicConfigProblem(
    const std::string& topic, const config::BrokerConfig& broker,
    const std::map<std::string, std::string>& overrides) {
  if (!cluster::IsInternalTopic(topic)) return std::nullopt;
  auto effective = config::ResolveTopicConfig(broker, overrides);
  if (!effective.ok() || effective->cleanup_compact) return std::nullopt;
  return fmt::format("Internal topic {} must keep cleanup.policy containing compact.", topic);
}

// What PartitionManager checks before it takes new overrides (each key and
// value, then the effective config they make with `broker`'s defaults),
// for a cluster topic, whose overrides are written to ZooKeeper instead:
// the INVALID_CONFIG message, or nullopt if `overrides` are acceptable.
inline std::optional<std::string> TopicOverridesProblem(
    const config::BrokerConfig& broker, const std::map<std::string, std::string>& overrides) {
  if (Status s = config::ValidateTopicOverrides(overrides); !s.ok()) return s.message();
  if (auto resolved = config::ResolveTopicConfig(broker, overrides); !resolved.ok()) {
    return resolved.status().message();
  }
  return std::nullopt;
}

}  // namespace sluice::api
