// The controller's requests on the wire: controller::LeaderAndIsrRequest,
// UpdateMetadataRequest and StopReplicaRequest (plain structs, so that the
// controller depends on no wire format) to and from the generated protocol
// messages.
//
// The controller sends one version of each (below): those of a Kafka 3.2-3.3
// controller in ZooKeeper mode, the newest before KRaft migration (whose
// is_kraft_controller field Sluice has no use for). They carry topic ids and
// are flexible. There is no negotiation: Kafka's controller picks its
// versions from inter.broker.protocol.version, not ApiVersions, and every
// broker of a Sluice cluster speaks these.
//
// Broker epoch: Kafka's controller puts the receiving broker's epoch (the
// czxid of its /brokers/ids znode) in every request so that a restarted
// broker can tell a request meant for its previous life. The live set the
// controller keeps (zk::BrokerRegistration) has no czxid, so requests carry
// -1, which Kafka's brokers read as "unknown" and do not check. A restart is
// still seen: the controller sends the new process a full LeaderAndIsr.
//
// FromWire is for the receiving broker's handlers. It reads every version
// the messages define (grouped by topic or not), so that a handler can accept
// older senders too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "controller/controller_channel.h"
#include "controller/topic_id.h"
#include "protocol/generated/leader_and_isr.h"
#include "protocol/generated/stop_replica.h"
#include "protocol/generated/update_metadata.h"
#include "zk/znodes.h"

namespace sluice::interbroker {

// The versions the controller sends.
inline constexpr int16_t kLeaderAndIsrVersion = 6;    // topic ids, full/incremental type
inline constexpr int16_t kUpdateMetadataVersion = 7;  // topic ids
inline constexpr int16_t kStopReplicaVersion = 3;     // per-partition epoch and delete flag
// The broker epoch the requests carry (see the header comment).
inline constexpr int64_t kUnknownBrokerEpoch = -1;
// LeaderAndIsr's `type` (v5+).
inline constexpr int8_t kLeaderAndIsrIncremental = 1;
inline constexpr int8_t kLeaderAndIsrFull = 2;

// One listener's address from a registration: "NAME://host:port", the host
// of an IPv6 address in brackets ("NAME://[::1]:9092"), which Endpoint holds
// without them.
struct Endpoint {
  std::string listener;
  std::string host;
  int32_t port = 0;
  bool operator==(const Endpoint&) const = default;
};
// nullopt unless `text` is "NAME://host:port" with a port in 0-65535.
std::optional<Endpoint> ParseEndpoint(std::string_view text);
std::string FormatEndpoint(const Endpoint& endpoint);
// The endpoint of `broker` on `listener`; if it has none (or `listener` is
// empty), its first one that parses; nullopt if none does.
std::optional<Endpoint> FindEndpoint(const zk::BrokerRegistration& broker,
                                     std::string_view listener);

// Kafka's security protocol ids (SecurityProtocol.java): PLAINTEXT 0, SSL 1,
// SASL_PLAINTEXT 2, SASL_SSL 3. nullopt for any other name.
std::optional<int16_t> SecurityProtocolId(std::string_view name);
// "UNKNOWN(<id>)" for an id not listed.
std::string SecurityProtocolName(int16_t id);

protocol::Uuid ToWire(const controller::TopicUuid& id);
controller::TopicUuid FromWire(const protocol::Uuid& id);

// At kLeaderAndIsrVersion. Partitions are grouped by topic in the order their
// topics first appear (a topic's partitions in their order; its id is its
// first partition's). live_leaders carry each leader's endpoint on
// `listener` (FindEndpoint), the one followers fetch from; a leader with no
// endpoint that parses is left out, with a warning.
protocol::LeaderAndIsrRequest ToWire(const controller::LeaderAndIsrRequest& request,
                                     std::string_view listener);
// At kUpdateMetadataVersion: every endpoint of every live broker, with its
// security protocol (the registration's map; a listener missing from it is
// taken to be named after its protocol, as Kafka's default map says). An
// endpoint that does not parse or whose protocol is unknown is left out,
// with a warning.
protocol::UpdateMetadataRequest ToWire(const controller::UpdateMetadataRequest& request);
// At kStopReplicaVersion.
protocol::StopReplicaRequest ToWire(const controller::StopReplicaRequest& request);

// The reverse, for any version. What the wire does not carry comes back
// empty: LeaderAndIsr's offline_replicas, UpdateMetadata's is_new; a live
// leader is one endpoint "<listener>://host:port" (the wire names no
// listener: the receiver says which it follows on) and no security map or
// rack; a live broker's registration timestamp is 0. v1-2 UpdateMetadata
// endpoints, which name no listener, are named after their protocol, and a
// v0 broker is one PLAINTEXT endpoint. A v0-2 StopReplica gives every
// partition leader epoch -1 and the request's delete flag.
controller::LeaderAndIsrRequest FromWire(const protocol::LeaderAndIsrRequest& request,
                                         std::string_view listener);
controller::UpdateMetadataRequest FromWire(const protocol::UpdateMetadataRequest& request);
controller::StopReplicaRequest FromWire(const protocol::StopReplicaRequest& request);

}  // namespace sluice::interbroker
