// The controller's requests through the wire and back: struct -> generated
// message -> bytes -> generated message -> struct gives what went in (less
// what the wire does not carry, which the header names), and what older
// senders' versions decode to.
#include "interbroker/message_conversion.h"

#include <tuple>

#include <gtest/gtest.h>

namespace sluice::interbroker {
namespace {

using controller::PartitionLeaderInfo;

// The controller's structs have no operator==; these give comparable and
// printable views of them.
auto Fields(const PartitionLeaderInfo& p) {
  return std::make_tuple(p.topic, p.topic_id, p.partition, p.controller_epoch, p.leader,
                         p.leader_epoch, p.isr, p.partition_epoch, p.replicas, p.offline_replicas,
                         p.is_new);
}
auto Fields(const zk::BrokerRegistration& b) {
  return std::make_tuple(b.id, b.endpoints, b.security_protocols, b.rack, b.timestamp_ms);
}
auto Fields(const controller::StopReplicaPartition& p) {
  return std::make_tuple(p.topic, p.partition, p.leader_epoch, p.delete_partition);
}
template <typename T>
auto Fields(const std::vector<T>& items) {
  std::vector<decltype(Fields(items.front()))> out;
  for (const T& item : items) out.push_back(Fields(item));
  return out;
}

// Encodes `message` at `version` and decodes it again, as the broker will.
template <typename Message>
Message ThroughTheWire(const Message& message, int16_t version) {
  protocol::Writer out;
  message.Encode(out, version);
  const std::vector<uint8_t> bytes = out.Take();
  protocol::Reader in(bytes);
  Message decoded;
  const Status s = decoded.Decode(in, version);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(in.remaining(), 0u);
  return decoded;
}

controller::TopicUuid Id(uint8_t seed) {
  controller::TopicUuid id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed + i);
  return id;
}

PartitionLeaderInfo Partition(std::string topic, controller::TopicUuid id, int32_t partition,
                              int32_t leader) {
  return {.topic = std::move(topic),
          .topic_id = id,
          .partition = partition,
          .controller_epoch = 7,
          .leader = leader,
          .leader_epoch = 3 + partition,
          .isr = {leader, 2},
          .partition_epoch = 11 + partition,
          .replicas = {leader, 2, 3}};
}

zk::BrokerRegistration Broker(int32_t id, std::vector<std::string> endpoints,
                              std::map<std::string, std::string> protocols,
                              std::optional<std::string> rack = std::nullopt) {
  return {.id = id,
          .endpoints = std::move(endpoints),
          .security_protocols = std::move(protocols),
          .rack = std::move(rack)};
}

TEST(MessageConversion, LeaderAndIsrRoundTrip) {
  controller::LeaderAndIsrRequest request{.controller_id = 1, .controller_epoch = 9, .full = true};
  request.partitions = {Partition("orders", Id(1), 0, 1), Partition("orders", Id(1), 1, 2),
                        Partition("users", Id(40), 0, 1)};
  request.partitions[1].is_new = true;
  request.live_leaders = {Broker(1, {"EXTERNAL://broker1.example:9093", "INTERNAL://10.0.0.1:9092"},
                                 {{"EXTERNAL", "SSL"}, {"INTERNAL", "PLAINTEXT"}}, "rack-a"),
                          Broker(2, {"INTERNAL://[fe80::2]:9092"}, {{"INTERNAL", "PLAINTEXT"}})};

  const protocol::LeaderAndIsrRequest wire = ToWire(request, "INTERNAL");
  EXPECT_EQ(wire.broker_epoch, kUnknownBrokerEpoch);
  EXPECT_EQ(wire.type, kLeaderAndIsrFull);
  ASSERT_EQ(wire.topic_states.size(), 2u);
  EXPECT_EQ(wire.topic_states[0].topic_id.bytes, Id(1));
  EXPECT_EQ(wire.topic_states[0].partition_states.size(), 2u);
  ASSERT_EQ(wire.live_leaders.size(), 2u);
  EXPECT_EQ(wire.live_leaders[0].host_name, "10.0.0.1");  // the listener's, not the first
  EXPECT_EQ(wire.live_leaders[1].host_name, "fe80::2");

  const controller::LeaderAndIsrRequest back =
      FromWire(ThroughTheWire(wire, kLeaderAndIsrVersion), "INTERNAL");
  EXPECT_EQ(back.controller_id, 1);
  EXPECT_EQ(back.controller_epoch, 9);
  EXPECT_TRUE(back.full);
  EXPECT_EQ(Fields(back.partitions), Fields(request.partitions));
  // A live leader is what followers need: its id and address on the listener.
  const std::vector<zk::BrokerRegistration> leaders = {
      Broker(1, {"INTERNAL://10.0.0.1:9092"}, {}), Broker(2, {"INTERNAL://[fe80::2]:9092"}, {})};
  EXPECT_EQ(Fields(back.live_leaders), Fields(leaders));

  request.full = false;
  EXPECT_EQ(ToWire(request, "INTERNAL").type, kLeaderAndIsrIncremental);
  EXPECT_FALSE(FromWire(ToWire(request, "INTERNAL"), "INTERNAL").full);
}

TEST(MessageConversion, UpdateMetadataRoundTrip) {
  controller::UpdateMetadataRequest request{.controller_id = 3, .controller_epoch = 12};
  request.partitions = {Partition("orders", Id(1), 0, 1), Partition("orders", Id(1), 1, 2),
                        Partition("gone", Id(90), 0, controller::kLeaderDuringDelete)};
  request.partitions[0].offline_replicas = {3};
  request.live_brokers = {Broker(1, {"INTERNAL://10.0.0.1:9092", "EXTERNAL://broker1.example:9093"},
                                 {{"EXTERNAL", "SASL_SSL"}, {"INTERNAL", "PLAINTEXT"}}, "rack-a"),
                          Broker(2, {"PLAINTEXT://[::1]:9092", "SSL://host2:9094"},
                                 {{"PLAINTEXT", "PLAINTEXT"}, {"SSL", "SSL"}})};

  const protocol::UpdateMetadataRequest wire = ToWire(request);
  EXPECT_EQ(wire.broker_epoch, kUnknownBrokerEpoch);
  ASSERT_EQ(wire.topic_states.size(), 2u);
  EXPECT_EQ(wire.topic_states[1].topic_id.bytes, Id(90));
  ASSERT_EQ(wire.live_brokers.size(), 2u);
  ASSERT_EQ(wire.live_brokers[0].endpoints.size(), 2u);
  EXPECT_EQ(wire.live_brokers[0].endpoints[1].security_protocol, 3);  // SASL_SSL
  EXPECT_EQ(wire.live_brokers[1].rack, std::nullopt);

  const controller::UpdateMetadataRequest back =
      FromWire(ThroughTheWire(wire, kUpdateMetadataVersion));
  EXPECT_EQ(back.controller_id, 3);
  EXPECT_EQ(back.controller_epoch, 12);
  EXPECT_EQ(Fields(back.partitions), Fields(request.partitions));
  EXPECT_EQ(Fields(back.live_brokers), Fields(request.live_brokers));
}

TEST(MessageConversion, StopReplicaRoundTrip) {
  controller::StopReplicaRequest request{.controller_id = 2, .controller_epoch = 5};
  request.partitions = {
      {.topic = "gone",
       .partition = 0,
       .leader_epoch = controller::kEpochDuringDelete,
       .delete_partition = true},
      {.topic = "gone",
       .partition = 1,
       .leader_epoch = controller::kEpochDuringDelete,
       .delete_partition = true},
      {.topic = "moved", .partition = 4, .leader_epoch = 8, .delete_partition = false}};

  const protocol::StopReplicaRequest wire = ToWire(request);
  EXPECT_EQ(wire.broker_epoch, kUnknownBrokerEpoch);
  ASSERT_EQ(wire.topic_states.size(), 2u);
  const controller::StopReplicaRequest back = FromWire(ThroughTheWire(wire, kStopReplicaVersion));
  EXPECT_EQ(back.controller_id, 2);
  EXPECT_EQ(back.controller_epoch, 5);
  EXPECT_EQ(Fields(back.partitions), Fields(request.partitions));
}

TEST(MessageConversion, PartitionsAreGroupedByTopicInFirstSeenOrder) {
  controller::StopReplicaRequest request;
  request.partitions = {{.topic = "b", .partition = 0},
                        {.topic = "a", .partition = 2},
                        {.topic = "b", .partition = 1}};
  const protocol::StopReplicaRequest wire = ToWire(request);
  ASSERT_EQ(wire.topic_states.size(), 2u);
  EXPECT_EQ(wire.topic_states[0].topic_name, "b");
  ASSERT_EQ(wire.topic_states[0].partition_states.size(), 2u);
  EXPECT_EQ(wire.topic_states[0].partition_states[1].partition_index, 1);
  EXPECT_EQ(wire.topic_states[1].topic_name, "a");
}

TEST(MessageConversion, Endpoints) {
  EXPECT_EQ(ParseEndpoint("INTERNAL://10.0.0.1:9092"),
            (Endpoint{.listener = "INTERNAL", .host = "10.0.0.1", .port = 9092}));
  EXPECT_EQ(ParseEndpoint("PLAINTEXT://[::1]:9092"),
            (Endpoint{.listener = "PLAINTEXT", .host = "::1", .port = 9092}));
  EXPECT_EQ(FormatEndpoint({.listener = "PLAINTEXT", .host = "::1", .port = 9092}),
            "PLAINTEXT://[::1]:9092");
  EXPECT_EQ(ParseEndpoint("PLAINTEXT://host:65536"), std::nullopt);
  EXPECT_EQ(ParseEndpoint("PLAINTEXT://host:x"), std::nullopt);
  EXPECT_EQ(ParseEndpoint("PLAINTEXT://host"), std::nullopt);
  EXPECT_EQ(ParseEndpoint("host:9092"), std::nullopt);
  EXPECT_EQ(ParseEndpoint("://host:9092"), std::nullopt);

  const zk::BrokerRegistration b = Broker(4, {"garbage", "EXTERNAL://e:1", "INTERNAL://i:2"}, {});
  EXPECT_EQ(FindEndpoint(b, "INTERNAL")->host, "i");
  EXPECT_EQ(FindEndpoint(b, "MISSING")->host, "e");  // the first that parses
  EXPECT_EQ(FindEndpoint(b, "")->host, "e");
  EXPECT_EQ(FindEndpoint(Broker(5, {"garbage"}, {}), ""), std::nullopt);

  EXPECT_EQ(SecurityProtocolId("SASL_PLAINTEXT"), 2);
  EXPECT_EQ(SecurityProtocolId("TLS"), std::nullopt);
  EXPECT_EQ(SecurityProtocolName(1), "SSL");
  EXPECT_EQ(SecurityProtocolName(9), "UNKNOWN(9)");
}

TEST(MessageConversion, EndpointsWithUnknownProtocolsAreLeftOut) {
  controller::UpdateMetadataRequest request;
  request.live_brokers = {Broker(1, {"WEIRD://h:1", "bad", "INTERNAL://h:2"},
                                 {{"WEIRD", "QUIC"}, {"INTERNAL", "PLAINTEXT"}})};
  const protocol::UpdateMetadataRequest wire = ToWire(request);
  ASSERT_EQ(wire.live_brokers.size(), 1u);
  ASSERT_EQ(wire.live_brokers[0].endpoints.size(), 1u);
  EXPECT_EQ(wire.live_brokers[0].endpoints[0].listener, "INTERNAL");
  EXPECT_EQ(wire.live_brokers[0].endpoints[0].port, 2);
}

// What a handler gets from older senders' versions.
TEST(MessageConversion, OlderVersionsDecode) {
  protocol::UpdateMetadataRequest um;
  um.controller_epoch = 4;
  um.ungrouped_partition_states.push_back({.topic_name = "t",
                                           .partition_index = 1,
                                           .leader = 2,
                                           .isr = {2},
                                           .zk_version = 6,
                                           .replicas = {2}});
  um.live_brokers.push_back({.id = 2, .v0_host = "h0", .v0_port = 9092});
  controller::UpdateMetadataRequest v0 = FromWire(ThroughTheWire(um, 0));
  ASSERT_EQ(v0.partitions.size(), 1u);
  EXPECT_EQ(v0.partitions[0].topic, "t");
  EXPECT_EQ(v0.partitions[0].partition_epoch, 6);
  EXPECT_EQ(v0.partitions[0].topic_id, controller::kNoTopicUuid);
  ASSERT_EQ(v0.live_brokers.size(), 1u);
  EXPECT_EQ(v0.live_brokers[0].endpoints, std::vector<std::string>{"PLAINTEXT://h0:9092"});

  um.live_brokers[0].endpoints.push_back(
      {.port = 9093, .host = "h1", .listener = "ignored below v3", .security_protocol = 1});
  controller::UpdateMetadataRequest v2 = FromWire(ThroughTheWire(um, 2));
  ASSERT_EQ(v2.live_brokers.size(), 1u);
  EXPECT_EQ(v2.live_brokers[0].endpoints, std::vector<std::string>{"SSL://h1:9093"});
  EXPECT_EQ(v2.live_brokers[0].security_protocols.at("SSL"), "SSL");

  protocol::StopReplicaRequest sr;
  sr.delete_partitions = true;
  sr.topics.push_back({.name = "t", .partition_indexes = {0, 3}});
  controller::StopReplicaRequest v1 = FromWire(ThroughTheWire(sr, 1));
  const std::vector<controller::StopReplicaPartition> expected = {
      {.topic = "t", .partition = 0, .leader_epoch = -1, .delete_partition = true},
      {.topic = "t", .partition = 3, .leader_epoch = -1, .delete_partition = true}};
  EXPECT_EQ(Fields(v1.partitions), Fields(expected));

  protocol::LeaderAndIsrRequest lai;
  lai.ungrouped_partition_states.push_back({.topic_name = "t",
                                            .partition_index = 2,
                                            .leader = 1,
                                            .isr = {1},
                                            .replicas = {1},
                                            .is_new = true});
  controller::LeaderAndIsrRequest l1 = FromWire(ThroughTheWire(lai, 1), "INTERNAL");
  ASSERT_EQ(l1.partitions.size(), 1u);
  EXPECT_EQ(l1.partitions[0].topic, "t");
  EXPECT_TRUE(l1.partitions[0].is_new);
  EXPECT_FALSE(l1.full);
}

}  // namespace
}  // namespace sluice::interbroker
