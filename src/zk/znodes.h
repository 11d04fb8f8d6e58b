// The znodes of a Kafka cluster in ZooKeeper mode, and the JSON each holds.
//
// Sluice keeps Kafka's ZooKeeper-era layout and formats (Kafka 2.x/3.x), so
// the data is what an operator of such a cluster knows:
//
//   /cluster/id                                  {"version":"1","id":"<cluster id>"}
//   /controller                   (ephemeral)    {"version":1,"brokerid":1,"timestamp":"..."}
//   /controller_epoch                            "7"
//   /brokers/ids/<id>             (ephemeral)    {"version":5,"host":..,"port":..,"endpoints":[..],
//                                                 "listener_security_protocol_map":{..},
//                                                 "jmx_port":-1,"timestamp":"..","rack":..,
//                                                 "features":{}}
//   /brokers/topics/<topic>                      {"version":3,"partitions":{"0":[1,2,3]},
//                                                 "adding_replicas":{},"removing_replicas":{},
//                                                 "topic_id":".."}
//   /brokers/topics/<topic>/partitions/<p>/state {"version":1,"leader":1,"leader_epoch":0,
//                                                 "controller_epoch":7,"isr":[1,2,3]}
//   /config/topics/<topic>                       {"version":1,"config":{"retention.ms":"1000"}}
//   /config/brokers/<id> and /config/brokers/<default>: the same format
//   /config/changes/config_change_<seq>          {"version":2,"entity_path":"topics/<topic>"}
//   /admin/delete_topics/<topic>                 (empty: deletion pending)
//   /latest_producer_id_block                    {"version":1,"broker":1,"block_start":"0",
//                                                 "block_end":"999"}
//
// Decoders take bytes from the network (another broker, an operator's tool):
// anything malformed is an InvalidArgument, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::zk {

// Paths.
inline constexpr char kClusterIdPath[] = "/cluster/id";
inline constexpr char kControllerPath[] = "/controller";
inline constexpr char kControllerEpochPath[] = "/controller_epoch";
inline constexpr char kBrokerIdsPath[] = "/brokers/ids";
inline constexpr char kTopicsPath[] = "/brokers/topics";
inline constexpr char kTopicConfigsPath[] = "/config/topics";
// A broker's dynamic configs (/config/brokers/<id>), and the defaults of
// every broker (/config/brokers/<default>), as Kafka keeps them.
inline constexpr char kBrokerConfigsPath[] = "/config/brokers";
inline constexpr char kDefaultBrokerEntity[] = "<default>";
// Sequential notifications that an entity's config changed (Kafka's
// ZkConfigManager): every broker watches the children.
inline constexpr char kConfigChangesPath[] = "/config/changes";
inline constexpr char kConfigChangePrefix[] = "config_change_";
inline constexpr char kDeleteTopicsPath[] = "/admin/delete_topics";
inline constexpr char kProducerIdBlockPath[] = "/latest_producer_id_block";

std::string BrokerPath(int32_t broker_id);
std::string TopicPath(const std::string& topic);
std::string PartitionsPath(const std::string& topic);
std::string PartitionStatePath(const std::string& topic, int32_t partition);
std::string TopicConfigPath(const std::string& topic);
// `entity`: a broker id, or kDefaultBrokerEntity.
std::string BrokerConfigPath(const std::string& entity);
std::string DeleteTopicPath(const std::string& topic);

// /brokers/ids/<id>
struct BrokerRegistration {
  int32_t id = -1;
  // "NAME://host:port", as advertised.listeners says.
  std::vector<std::string> endpoints;
  // Listener name -> security protocol ("PLAINTEXT").
  std::map<std::string, std::string> security_protocols;
  std::optional<std::string> rack;
  int64_t timestamp_ms = 0;

  // The host and port of the first PLAINTEXT endpoint (what the top-level
  // "host"/"port" fields carry for old readers); "" and -1 if none.
  std::pair<std::string, int32_t> PlaintextHostPort() const;
};
std::string EncodeBroker(const BrokerRegistration& b);
Result<BrokerRegistration> DecodeBroker(int32_t id, const std::string& json);

// /controller
struct ControllerRegistration {
  int32_t broker_id = -1;
  int64_t timestamp_ms = 0;
};
std::string EncodeController(const ControllerRegistration& c);
Result<ControllerRegistration> DecodeController(const std::string& json);

// /controller_epoch
std::string EncodeControllerEpoch(int32_t epoch);
Result<int32_t> DecodeControllerEpoch(const std::string& data);

// /brokers/topics/<topic>
struct TopicAssignment {
  std::string topic_id;  // Kafka's base64 UUID; may be empty in old data
  std::map<int32_t, std::vector<int32_t>> partitions;  // partition -> replicas (preferred first)
  std::map<int32_t, std::vector<int32_t>> adding_replicas;
  std::map<int32_t, std::vector<int32_t>> removing_replicas;
};
std::string EncodeTopicAssignment(const TopicAssignment& a);
Result<TopicAssignment> DecodeTopicAssignment(const std::string& json);

// /brokers/topics/<topic>/partitions/<p>/state
struct PartitionState {
  int32_t leader = -1;  // -1: no leader (offline)
  int32_t leader_epoch = 0;
  int32_t controller_epoch = 0;
  std::vector<int32_t> isr;
  bool operator==(const PartitionState&) const = default;
};
std::string EncodePartitionState(const PartitionState& s);
Result<PartitionState> DecodePartitionState(const std::string& json);

// /config/topics/<topic>, and /config/brokers/<entity> in the same format
std::string EncodeTopicConfig(const std::map<std::string, std::string>& config);
Result<std::map<std::string, std::string>> DecodeTopicConfig(const std::string& json);

// /config/changes/config_change_<seq>: which entity's config changed.
// Written as version 2 ({"entity_path":"topics/<t>"}); version 1
// ({"entity_type":"topics","entity_name":"<t>"}), which older Kafka tools
// write, is read too.
struct ConfigChange {
  std::string entity_type;  // "topics", "brokers", "users", "clients"...
  std::string entity_name;  // may itself hold '/' (a user's client: "users/u/clients/c")
  bool operator==(const ConfigChange&) const = default;
};
// The path to create (sequential mode) for a notification.
std::string ConfigChangePath();
std::string EncodeConfigChange(const ConfigChange& c);
Result<ConfigChange> DecodeConfigChange(const std::string& json);
// The sequence number of a notification's node name ("config_change_0000000042"
// -> 42); nullopt for a name that is not one.
std::optional<int64_t> ConfigChangeSequence(const std::string& node_name);

// /latest_producer_id_block: the last block of producer ids handed out.
struct ProducerIdBlock {
  int32_t broker = -1;
  int64_t start = 0;
  int64_t end = 0;  // inclusive
  bool operator==(const ProducerIdBlock&) const = default;
};
std::string EncodeProducerIdBlock(const ProducerIdBlock& b);
Result<ProducerIdBlock> DecodeProducerIdBlock(const std::string& json);

// /cluster/id
std::string EncodeClusterId(const std::string& id);
Result<std::string> DecodeClusterId(const std::string& json);

}  // namespace sluice::zk
