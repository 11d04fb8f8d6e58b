#include "zk/znodes.h"

#include <charconv>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::zk {
namespace {

using nlohmann::json;

// Parses `text` as a JSON object; InvalidArgument names `what` otherwise.
Result<json> ParseObject(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument(fmt::format("{}: not a JSON object: {:.200}", what, text));
  }
  return j;
}

// The int32 at `key`, or an error if it is missing or not an int32.
Result<int32_t> Int32At(const json& j, const char* key, const char* what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" missing or not an integer", what, key));
  }
  const int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" out of range", what, key));
  }
  return static_cast<int32_t>(v);
}

Result<std::vector<int32_t>> Int32Array(const json& j, const char* what) {
  if (!j.is_array()) return Status::InvalidArgument(fmt::format("{}: not an array", what));
  std::vector<int32_t> out;
  for (const json& e : j) {
    if (!e.is_number_integer() || e.get<int64_t>() < INT32_MIN || e.get<int64_t>() > INT32_MAX) {
      return Status::InvalidArgument(fmt::format("{}: not an array of integers", what));
    }
    out.push_back(static_cast<int32_t>(e.get<int64_t>()));
  }
  return out;
}

Result<int32_t> ParseInt32(const std::string& s, const char* what) {
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Status::InvalidArgument(fmt::format("{}: not an integer: {:.50}", what, s));
  }
  return v;
}

// Kafka writes timestamps as strings of milliseconds.
int64_t TimestampAt(const json& j) {
  auto it = j.find("timestamp");
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) return 0;
  const std::string s = it->get<std::string>();
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

json ReplicaMap(const std::map<int32_t, std::vector<int32_t>>& m) {
  json out = json::object();
  for (const auto& [p, replicas] : m) out[std::to_string(p)] = replicas;
  return out;
}

Result<std::map<int32_t, std::vector<int32_t>>> DecodeReplicaMap(const json& j, const char* what) {
  std::map<int32_t, std::vector<int32_t>> out;
  if (!j.is_object()) return Status::InvalidArgument(fmt::format("{}: not an object", what));
  for (const auto& [key, value] : j.items()) {
    Result<int32_t> p = ParseInt32(key, what);
    if (!p.ok()) return p.status();
    if (*p < 0) return Status::InvalidArgument(fmt::format("{}: negative partition", what));
    Result<std::vector<int32_t>> replicas = Int32Array(value, what);
    if (!replicas.ok()) return replicas.status();
    out[*p] = std::move(*replicas);
  }
  return out;
}

}  // namespace

std::string BrokerPath(int32_t broker_id) {
  return fmt::format("{}/{}", kBrokerIdsPath, broker_id);
}
std::string TopicPath(const std::string& topic) { return fmt::format("{}/{}", kTopicsPath, topic); }
std::string PartitionsPath(const std::string& topic) { return TopicPath(topic) + "/partitions"; }
std::string PartitionStatePath(const std::string& topic, int32_t partition) {
  return fmt::format("{}/{}/state", PartitionsPath(topic), partition);
}
std::string TopicConfigPath(const std::string& topic) {
  return fmt::format("{}/{}", kTopicConfigsPath, topic);
}

std::string BrokerConfigPath(const std::string& entity) {
  return fmt::format("{}/{}", kBrokerConfigsPath, entity);
}
std::string DeleteTopicPath(const std::string& topic) {
  return fmt::format("{}/{}", kDeleteTopicsPath, topic);
}

std::pair<std::string, int32_t> BrokerRegistration::PlaintextHostPort() const {
  for (const std::string& e : endpoints) {
    const size_t scheme = e.find("://");
    if (scheme == std::string::npos) continue;
    const std::string listener = e.substr(0, scheme);
    auto proto = security_protocols.find(listener);
    const std::string protocol = proto == security_protocols.end() ? listener : proto->second;
    if (protocol != "PLAINTEXT") continue;
    const std::string host_port = e.substr(scheme + 3);
    const size_t colon = host_port.rfind(':');
    if (colon == std::string::npos) continue;
    Result<int32_t> port = ParseInt32(host_port.substr(colon + 1), "port");
    if (!port.ok()) continue;
    return {host_port.substr(0, colon), *port};
  }
  return {"", -1};
}

std::string EncodeBroker(const BrokerRegistration& b) {
  const auto [host, port] = b.PlaintextHostPort();
  json j = {{"version", 5},
            {"host", host.empty() ? json(nullptr) : json(host)},
            {"port", port},
            {"endpoints", b.endpoints},
            {"listener_security_protocol_map", b.security_protocols},
            {"jmx_port", -1},
            {"timestamp", std::to_string(b.timestamp_ms)},
            {"features", json::object()}};
  if (b.rack) j["rack"] = *b.rack;
  return j.dump();
}

Result<BrokerRegistration> DecodeBroker(int32_t id, const std::string& text) {
  const std::string what = fmt::format("broker {} registration", id);
  Result<json> j = ParseObject(text, what.c_str());
  if (!j.ok()) return j.status();
  Result<int32_t> version = Int32At(*j, "version", what.c_str());
  if (!version.ok()) return version.status();
  BrokerRegistration b;
  b.id = id;
  b.timestamp_ms = TimestampAt(*j);
  if (*version < 2) {
    // Version 1 had one PLAINTEXT host and port.
    auto host = j->find("host");
    Result<int32_t> port = Int32At(*j, "port", what.c_str());
    if (host == j->end() || !host->is_string() || !port.ok()) {
      return Status::InvalidArgument(what + ": no host and port");
    }
    b.endpoints.push_back(fmt::format("PLAINTEXT://{}:{}", host->get<std::string>(), *port));
    b.security_protocols["PLAINTEXT"] = "PLAINTEXT";
    return b;
  }
  auto endpoints = j->find("endpoints");
  if (endpoints == j->end() || !endpoints->is_array()) {
    return Status::InvalidArgument(what + ": no endpoints");
  }
  for (const json& e : *endpoints) {
    if (!e.is_string()) return Status::InvalidArgument(what + ": endpoint not a string");
    b.endpoints.push_back(e.get<std::string>());
  }
  auto protocols = j->find("listener_security_protocol_map");
  if (protocols != j->end() && protocols->is_object()) {
    for (const auto& [name, protocol] : protocols->items()) {
      if (protocol.is_string()) b.security_protocols[name] = protocol.get<std::string>();
    }
  }
  auto rack = j->find("rack");
  if (rack != j->end() && rack->is_string()) b.rack = rack->get<std::string>();
  return b;
}

std::string EncodeController(const ControllerRegistration& c) {
  return json{{"version", 1},
              {"brokerid", c.broker_id},
              {"timestamp", std::to_string(c.timestamp_ms)}}
      .dump();
}

Result<ControllerRegistration> DecodeController(const std::string& text) {
  Result<json> j = ParseObject(text, "controller");
  if (!j.ok()) return j.status();
  Result<int32_t> id = Int32At(*j, "brokerid", "controller");
  if (!id.ok()) return id.status();
  return ControllerRegistration{*id, TimestampAt(*j)};
}

std::string EncodeControllerEpoch(int32_t epoch) { return std::to_string(epoch); }

Result<int32_t> DecodeControllerEpoch(const std::string& data) {
  return ParseInt32(data, "controller epoch");
}

std::string EncodeTopicAssignment(const TopicAssignment& a) {
  json j = {{"version", 3},
            {"partitions", ReplicaMap(a.partitions)},
            {"adding_replicas", ReplicaMap(a.adding_replicas)},
            {"removing_replicas", ReplicaMap(a.removing_replicas)}};
  if (!a.topic_id.empty()) j["topic_id"] = a.topic_id;
  return j.dump();
}

Result<TopicAssignment> DecodeTopicAssignment(const std::string& text) {
  Result<json> j = ParseObject(text, "topic assignment");
  if (!j.ok()) return j.status();
  TopicAssignment a;
  auto id = j->find("topic_id");
  if (id != j->end() && id->is_string()) a.topic_id = id->get<std::string>();
  auto partitions = j->find("partitions");
  if (partitions == j->end()) return Status::InvalidArgument("topic assignment: no partitions");
  auto decoded = DecodeReplicaMap(*partitions, "topic assignment partitions");
  if (!decoded.ok()) return decoded.status();
  a.partitions = std::move(*decoded);
  for (auto [key, target] : {std::pair{"adding_replicas", &a.adding_replicas},
                             std::pair{"removing_replicas", &a.removing_replicas}}) {
    auto it = j->find(key);
    if (it == j->end()) continue;
    auto m = DecodeReplicaMap(*it, key);
    if (!m.ok()) return m.status();
    *target = std::move(*m);
  }
  return a;
}

std::string EncodePartitionState(const PartitionState& s) {
  return json{{"version", 1},
              {"leader", s.leader},
              {"leader_epoch", s.leader_epoch},
              {"controller_epoch", s.controller_epoch},
              {"isr", s.isr}}
      .dump();
}

Result<PartitionState> DecodePartitionState(const std::string& text) {
  Result<json> j = ParseObject(text, "partition state");
  if (!j.ok()) return j.status();
  PartitionState s;
  Result<int32_t> leader = Int32At(*j, "leader", "partition state");
  Result<int32_t> epoch = Int32At(*j, "leader_epoch", "partition state");
  Result<int32_t> controller_epoch = Int32At(*j, "controller_epoch", "partition state");
  if (!leader.ok()) return leader.status();
  if (!epoch.ok()) return epoch.status();
  if (!controller_epoch.ok()) return controller_epoch.status();
  auto isr = j->find("isr");
  if (isr == j->end()) return Status::InvalidArgument("partition state: no isr");
  Result<std::vector<int32_t>> members = Int32Array(*isr, "partition state isr");
  if (!members.ok()) return members.status();
  s.leader = *leader;
  s.leader_epoch = *epoch;
  s.controller_epoch = *controller_epoch;
  s.isr = std::move(*members);
  return s;
}

std::string EncodeTopicConfig(const std::map<std::string, std::string>& config) {
  return json{{"version", 1}, {"config", config}}.dump();
}

Result<std::map<std::string, std::string>> DecodeTopicConfig(const std::string& text) {
  Result<json> j = ParseObject(text, "topic config");
  if (!j.ok()) return j.status();
  std::map<std::string, std::string> out;
  auto config = j->find("config");
  if (config == j->end()) return out;
  if (!config->is_object()) return Status::InvalidArgument("topic config: config not an object");
  for (const auto& [key, value] : config->items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument("topic config: value of " + key + " not a string");
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

std::string ConfigChangePath() {
  return fmt::format("{}/{}", kConfigChangesPath, kConfigChangePrefix);
}

std::string EncodeConfigChange(const ConfigChange& c) {
  return json{{"version", 2}, {"entity_path", c.entity_type + "/" + c.entity_name}}.dump();
}

Result<ConfigChange> DecodeConfigChange(const std::string& text) {
  Result<json> j = ParseObject(text, "config change");
  if (!j.ok()) return j.status();
  Result<int32_t> version = Int32At(*j, "version", "config change");
  if (!version.ok()) return version.status();
  auto string_at = [&](const char* key) -> std::optional<std::string> {
    auto it = j->find(key);
    if (it == j->end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
    return it->get<std::string>();
  };
  ConfigChange c;
  if (*version == 1) {
    auto type = string_at("entity_type");
    auto name = string_at("entity_name");
    if (!type || !name) {
      return Status::InvalidArgument("config change: entity_type or entity_name missing");
    }
    c.entity_type = *type;
    c.entity_name = *name;
    return c;
  }
  if (*version != 2) {
    return Status::InvalidArgument(fmt::format("config change: unknown version {}", *version));
  }
  auto path = string_at("entity_path");
  const size_t slash = path ? path->find('/') : std::string::npos;
  if (slash == std::string::npos || slash == 0 || slash + 1 == path->size()) {
    return Status::InvalidArgument("config change: entity_path missing or not <type>/<name>");
  }
  c.entity_type = path->substr(0, slash);
  c.entity_name = path->substr(slash + 1);
  return c;
}

std::optional<int64_t> ConfigChangeSequence(const std::string& node_name) {
  const std::string_view prefix = kConfigChangePrefix;
  if (node_name.size() <= prefix.size() || node_name.compare(0, prefix.size(), prefix) != 0) {
    return std::nullopt;
  }
  int64_t seq = 0;
  const char* begin = node_name.data() + prefix.size();
  const char* end = node_name.data() + node_name.size();
  auto [at, ec] = std::from_chars(begin, end, seq);
  if (ec != std::errc() || at != end || seq < 0) return std::nullopt;
  return seq;
}

std::string EncodeClusterId(const std::string& id) {
  return json{{"version", "1"}, {"id", id}}.dump();
}

Result<std::string> DecodeClusterId(const std::string& text) {
  Result<json> j = ParseObject(text, "cluster id");
  if (!j.ok()) return j.status();
  auto id = j->find("id");
  if (id == j->end() || !id->is_string() || id->get<std::string>().empty()) {
    return Status::InvalidArgument("cluster id: no id");
  }
  return id->get<std::string>();
}

std::string EncodeProducerIdBlock(const ProducerIdBlock& b) {
  json j = {{"version", 1},
            {"broker", b.broker},
            {"block_start", std::to_string(b.start)},
            {"block_end", std::to_string(b.end)}};
  return j.dump();
}

Result<ProducerIdBlock> DecodeProducerIdBlock(const std::string& text) {
  constexpr char kWhat[] = "producer id block";
  Result<json> j = ParseObject(text, kWhat);
  if (!j.ok()) return j.status();
  Result<int32_t> broker = Int32At(*j, "broker", kWhat);
  if (!broker.ok()) return broker.status();
  ProducerIdBlock b;
  b.broker = *broker;
  for (auto [key, out] : {std::pair{"block_start", &b.start}, std::pair{"block_end", &b.end}}) {
    auto it = j->find(key);
    if (it == j->end() || !it->is_string()) {
      return Status::InvalidArgument(fmt::format("{}: \"{}\" missing or not a string", kWhat, key));
    }
    const std::string& digits = it->get_ref<const std::string&>();
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
    if (ec != std::errc() || p != digits.data() + digits.size() || *out < 0) {
      return Status::InvalidArgument(fmt::format("{}: \"{}\" is not a non-negative number", kWhat, key));
    }
  }
  if (b.end < b.start) return Status::InvalidArgument(fmt::format("{}: ends before it starts", kWhat));
  return b;
}

}  // namespace sluice::zk
