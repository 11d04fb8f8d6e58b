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

#include <fmt/format.h>

#include "cluster/topic_name.h"
#include "config/broker_config.h"
#include "config/topic_config.h"

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
