#include "interbroker/message_conversion.h"

#include <charconv>
#include <map>

#include <spdlog/spdlog.h>

namespace sluice::interbroker {
namespace {

constexpr std::string_view kSecurityProtocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT",
                                                   "SASL_SSL"};

// The index of `topic`'s entry in `*groups`, appending one (made by `make`)
// the first time it is seen; `*index` remembers where each topic went.
template <typename Group, typename Make>
Group& GroupFor(const std::string& topic, std::vector<Group>* groups,
                std::map<std::string, size_t>* index, Make make) {
  auto [it, inserted] = index->try_emplace(topic, groups->size());
  if (inserted) groups->push_back(make());
  return (*groups)[it->second];
}

// The registration's security protocol for `listener`.
std::string ProtocolOf(const zk::BrokerRegistration& broker, const std::string& listener) {
  auto it = broker.security_protocols.find(listener);
  return it == broker.security_protocols.end() ? listener : it->second;
}

controller::PartitionLeaderInfo FromWireState(
    const std::string& topic, const controller::TopicUuid& topic_id,
    const protocol::LeaderAndIsrRequest::LeaderAndIsrPartitionState& p) {
  controller::PartitionLeaderInfo info;
  info.topic = topic;
  info.topic_id = topic_id;
  info.partition = p.partition_index;
  info.controller_epoch = p.controller_epoch;
  info.leader = p.leader;
  info.leader_epoch = p.leader_epoch;
  info.isr = p.isr;
  info.partition_epoch = p.partition_epoch;
  info.replicas = p.replicas;
  info.is_new = p.is_new;
  return info;
}

controller::PartitionLeaderInfo FromWireState(
    const std::string& topic, const controller::TopicUuid& topic_id,
    const protocol::UpdateMetadataRequest::UpdateMetadataPartitionState& p) {
  controller::PartitionLeaderInfo info;
  info.topic = topic;
  info.topic_id = topic_id;
  info.partition = p.partition_index;
  info.controller_epoch = p.controller_epoch;
  info.leader = p.leader;
  info.leader_epoch = p.leader_epoch;
  info.isr = p.isr;
  info.partition_epoch = p.zk_version;
  info.replicas = p.replicas;
  info.offline_replicas = p.offline_replicas;
  return info;
}

}  // namespace

std::optional<Endpoint> ParseEndpoint(std::string_view text) {
  const size_t scheme = text.find("://");
  if (scheme == std::string_view::npos || scheme == 0) return std::nullopt;
  Endpoint e;
  e.listener = std::string(text.substr(0, scheme));
  std::string_view host_port = text.substr(scheme + 3);
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = host_port.substr(0, colon);
  const std::string_view port = host_port.substr(colon + 1);
  int32_t value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
    return std::nullopt;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  e.host = std::string(host);
  e.port = value;
  return e;
}

std::string FormatEndpoint(const Endpoint& e) {
  const bool ipv6 = e.host.find(':') != std::string::npos;
  return e.listener + "://" + (ipv6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

std::optional<Endpoint> FindEndpoint(const zk::BrokerRegistration& broker,
                                     std::string_view listener) {
  std::optional<Endpoint> first;
  for (const std::string& text : broker.endpoints) {
    std::optional<Endpoint> e = ParseEndpoint(text);
    if (!e) continue;
    if (!listener.empty() && e->listener == listener) return e;
    if (!first) first = std::move(e);
  }
  return first;
}

std::optional<int16_t> SecurityProtocolId(std::string_view name) {
  for (size_t i = 0; i < std::size(kSecurityProtocols); ++i) {
    if (kSecurityProtocols[i] == name) return static_cast<int16_t>(i);
  }
  return std::nullopt;
}

std::string SecurityProtocolName(int16_t id) {
  if (id >= 0 && static_cast<size_t>(id) < std::size(kSecurityProtocols)) {
    return std::string(kSecurityProtocols[static_cast<size_t>(id)]);
  }
  return "UNKNOWN(" + std::to_string(id) + ")";
}

protocol::Uuid ToWire(const controller::TopicUuid& id) { return protocol::Uuid{id}; }
controller::TopicUuid FromWire(const protocol::Uuid& id) { return id.bytes; }

protocol::LeaderAndIsrRequest ToWire(const controller::LeaderAndIsrRequest& request,
                                     std::string_view listener) {
  using Wire = protocol::LeaderAndIsrRequest;
  Wire out;
  out.controller_id = request.controller_id;
  out.controller_epoch = request.controller_epoch;
  out.broker_epoch = kUnknownBrokerEpoch;
  out.type = request.full ? kLeaderAndIsrFull : kLeaderAndIsrIncremental;
  std::map<std::string, size_t> index;
  for (const controller::PartitionLeaderInfo& p : request.partitions) {
    Wire::LeaderAndIsrTopicState& topic = GroupFor(p.topic, &out.topic_states, &index, [&] {
      Wire::LeaderAndIsrTopicState t;
      t.topic_name = p.topic;
      t.topic_id = ToWire(p.topic_id);
      return t;
    });
    Wire::LeaderAndIsrPartitionState& s = topic.partition_states.emplace_back();
    s.partition_index = p.partition;
    s.controller_epoch = p.controller_epoch;
    s.leader = p.leader;
    s.leader_epoch = p.leader_epoch;
    s.isr = p.isr;
    s.partition_epoch = p.partition_epoch;
    s.replicas = p.replicas;
    s.is_new = p.is_new;
  }
  for (const zk::BrokerRegistration& leader : request.live_leaders) {
    std::optional<Endpoint> e = FindEndpoint(leader, listener);
    if (!e) {
      spdlog::warn("LeaderAndIsr: live leader {} has no usable endpoint; left out", leader.id);
      continue;
    }
    out.live_leaders.push_back({.broker_id = leader.id, .host_name = e->host, .port = e->port});
  }
  return out;
}

protocol::UpdateMetadataRequest ToWire(const controller::UpdateMetadataRequest& request) {
  using Wire = protocol::UpdateMetadataRequest;
  Wire out;
  out.controller_id = request.controller_id;
  out.controller_epoch = request.controller_epoch;
  out.broker_epoch = kUnknownBrokerEpoch;
  std::map<std::string, size_t> index;
  for (const controller::PartitionLeaderInfo& p : request.partitions) {
    Wire::UpdateMetadataTopicState& topic = GroupFor(p.topic, &out.topic_states, &index, [&] {
      Wire::UpdateMetadataTopicState t;
      t.topic_name = p.topic;
      t.topic_id = ToWire(p.topic_id);
      return t;
    });
    Wire::UpdateMetadataPartitionState& s = topic.partition_states.emplace_back();
    s.partition_index = p.partition;
    s.controller_epoch = p.controller_epoch;
    s.leader = p.leader;
    s.leader_epoch = p.leader_epoch;
    s.isr = p.isr;
    s.zk_version = p.partition_epoch;
    s.replicas = p.replicas;
    s.offline_replicas = p.offline_replicas;
  }
  for (const zk::BrokerRegistration& broker : request.live_brokers) {
    Wire::UpdateMetadataBroker& b = out.live_brokers.emplace_back();
    b.id = broker.id;
    b.rack = broker.rack;
    for (const std::string& text : broker.endpoints) {
      std::optional<Endpoint> e = ParseEndpoint(text);
      const std::string protocol = e ? ProtocolOf(broker, e->listener) : "";
      std::optional<int16_t> id = SecurityProtocolId(protocol);
      if (!e || !id) {
        spdlog::warn(
            "UpdateMetadata: broker {} endpoint \"{}\" {}; left out", broker.id, text,
            e ? "has security protocol \"" + protocol + "\", which is unknown" : "does not parse");
        continue;
      }
      b.endpoints.push_back(
          {.port = e->port, .host = e->host, .listener = e->listener, .security_protocol = *id});
    }
  }
  return out;
}

protocol::StopReplicaRequest ToWire(const controller::StopReplicaRequest& request) {
  using Wire = protocol::StopReplicaRequest;
  Wire out;
  out.controller_id = request.controller_id;
  out.controller_epoch = request.controller_epoch;
  out.broker_epoch = kUnknownBrokerEpoch;
  std::map<std::string, size_t> index;
  for (const controller::StopReplicaPartition& p : request.partitions) {
    Wire::StopReplicaTopicState& topic = GroupFor(p.topic, &out.topic_states, &index, [&] {
      Wire::StopReplicaTopicState t;
      t.topic_name = p.topic;
      return t;
    });
    topic.partition_states.push_back({.partition_index = p.partition,
                                      .leader_epoch = p.leader_epoch,
                                      .delete_partition = p.delete_partition});
  }
  return out;
}

controller::LeaderAndIsrRequest FromWire(const protocol::LeaderAndIsrRequest& request,
                                         std::string_view listener) {
  controller::LeaderAndIsrRequest out;
  out.controller_id = request.controller_id;
  out.controller_epoch = request.controller_epoch;
  out.full = request.type == kLeaderAndIsrFull;
  for (const auto& p : request.ungrouped_partition_states) {  // v0-1
    out.partitions.push_back(FromWireState(p.topic_name, controller::kNoTopicUuid, p));
  }
  for (const auto& topic : request.topic_states) {  // v2+
    const controller::TopicUuid id = FromWire(topic.topic_id);
    for (const auto& p : topic.partition_states) {
      out.partitions.push_back(FromWireState(topic.topic_name, id, p));
    }
  }
  for (const auto& leader : request.live_leaders) {
    zk::BrokerRegistration& b = out.live_leaders.emplace_back();
    b.id = leader.broker_id;
    b.endpoints.push_back(FormatEndpoint(
        {.listener = std::string(listener), .host = leader.host_name, .port = leader.port}));
  }
  return out;
}

controller::UpdateMetadataRequest FromWire(const protocol::UpdateMetadataRequest& request) {
  controller::UpdateMetadataRequest out;
  out.controller_id = request.controller_id;
  out.controller_epoch = request.controller_epoch;
  for (const auto& p : request.ungrouped_partition_states) {  // v0-4
    out.partitions.push_back(FromWireState(p.topic_name, controller::kNoTopicUuid, p));
  }
  for (const auto& topic : request.topic_states) {  // v5+
    const controller::TopicUuid id = FromWire(topic.topic_id);
    for (const auto& p : topic.partition_states) {
      out.partitions.push_back(FromWireState(topic.topic_name, id, p));
    }
  }
  for (const auto& broker : request.live_brokers) {
    zk::BrokerRegistration& b = out.live_brokers.emplace_back();
    b.id = broker.id;
    b.rack = broker.rack;
    if (!broker.v0_host.empty()) {  // v0: one PLAINTEXT host and port
      b.endpoints.push_back(FormatEndpoint(
          {.listener = "PLAINTEXT", .host = broker.v0_host, .port = broker.v0_port}));
      b.security_protocols["PLAINTEXT"] = "PLAINTEXT";
    }
    for (const auto& e : broker.endpoints) {
      const std::string protocol = SecurityProtocolName(e.security_protocol);
      const std::string listener = e.listener.empty() ? protocol : e.listener;
      b.endpoints.push_back(FormatEndpoint({.listener = listener, .host = e.host, .port = e.port}));
      b.security_protocols[listener] = protocol;
    }
  }
  return out;
}

controller::StopReplicaRequest FromWire(const protocol::StopReplicaRequest& request) {
  controller::StopReplicaRequest out;
  out.controller_id = request.controller_id;
  out.controller_epoch = request.controller_epoch;
  for (const auto& p : request.ungrouped_partitions) {  // v0
    out.partitions.push_back({.topic = p.topic_name,
                              .partition = p.partition_index,
                              .leader_epoch = -1,
                              .delete_partition = request.delete_partitions});
  }
  for (const auto& topic : request.topics) {  // v1-2
    for (int32_t partition : topic.partition_indexes) {
      out.partitions.push_back({.topic = topic.name,
                                .partition = partition,
                                .leader_epoch = -1,
                                .delete_partition = request.delete_partitions});
    }
  }
  for (const auto& topic : request.topic_states) {  // v3+
    for (const auto& p : topic.partition_states) {
      out.partitions.push_back({.topic = topic.topic_name,
                                .partition = p.partition_index,
                                .leader_epoch = p.leader_epoch,
                                .delete_partition = p.delete_partition});
    }
  }
  return out;
}

}  // namespace sluice::interbroker
