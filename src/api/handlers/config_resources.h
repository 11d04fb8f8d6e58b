// What the config handlers (DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs) share: Kafka's resource type numbers and the
// check of a BROKER resource's name.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include <fmt/format.h>

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

}  // namespace sluice::api
