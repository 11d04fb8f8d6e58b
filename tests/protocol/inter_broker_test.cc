// The inter-broker messages (LeaderAndIsr, StopReplica, UpdateMetadata,
// ControlledShutdown, AlterPartition) against bytes written out by hand from
// Kafka's message schemas: field order, the fields of old and new layouts
// (ungrouped v0 partitions, v0 broker host/port, per-topic v2+/v5+ layouts),
// compact encodings and tagged fields. The round-trip test covers every
// version; these pin the layout, which a round trip alone cannot.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/generated/alter_partition.h"
#include "protocol/generated/controlled_shutdown.h"
#include "protocol/generated/leader_and_isr.h"
#include "protocol/generated/stop_replica.h"
#include "protocol/generated/update_metadata.h"
#include "protocol/header.h"
#include "support/wire_bytes.h"

namespace sluice::protocol {
namespace {

using testing::WireBytes;
using testing::ExpectWire;
using testing::SomeId;

using LeaderAndIsrPartitionState = LeaderAndIsrRequest::LeaderAndIsrPartitionState;

LeaderAndIsrPartitionState SomePartitionState() {
  LeaderAndIsrPartitionState p;
  p.partition_index = 3;
  p.controller_epoch = 2;
  p.leader = 1;
  p.leader_epoch = 5;
  p.isr = {1, 2};
  p.partition_epoch = 7;
  p.replicas = {1, 2};
  return p;
}

TEST(InterBrokerWire, LeaderAndIsrV0ListsPartitionsWithTheirTopic) {
  LeaderAndIsrRequest m;
  m.controller_id = 1;
  m.controller_epoch = 2;
  m.ungrouped_partition_states.push_back(SomePartitionState());
  m.ungrouped_partition_states[0].topic_name = "t";
  m.live_leaders.push_back({.broker_id = 1, .host_name = "h", .port = 9092});
  WireBytes b;
  b.I32(1).I32(2);                                // controller id, epoch
  b.I32(1).Str("t").I32(3).I32(2).I32(1).I32(5);  // 1 partition: topic, index, epochs, leader
  b.I32(2).I32(1).I32(2).I32(7);                  // isr, partition epoch
  b.I32(2).I32(1).I32(2);                         // replicas
  b.I32(1).I32(1).Str("h").I32(9092);             // live leaders
  ExpectWire(m, 0, b);
}

TEST(InterBrokerWire, LeaderAndIsrV7IsFlexibleAndGroupedByTopic) {
  LeaderAndIsrRequest m;
  m.controller_id = 1;
  m.is_kraft_controller = true;
  m.controller_epoch = 2;
  m.broker_epoch = 10;
  m.type = 2;
  auto& topic = m.topic_states.emplace_back();
  topic.topic_name = "t";
  topic.topic_id = SomeId();
  topic.partition_states.push_back(SomePartitionState());
  topic.partition_states[0].adding_replicas = {3};
  topic.partition_states[0].is_new = true;
  topic.partition_states[0].leader_recovery_state = 1;
  m.live_leaders.push_back({.broker_id = 1, .host_name = "h", .port = 9092});
  WireBytes b;
  b.I32(1).I8(1).I32(2).I64(10).I8(2);            // id, kraft, epoch, broker epoch, type
  b.U(2).CompactStr("t").Id(SomeId());            // 1 topic
  b.U(2).I32(3).I32(2).I32(1).I32(5);             // 1 partition
  b.U(3).I32(1).I32(2).I32(7).U(3).I32(1).I32(2); // isr, partition epoch, replicas
  b.U(2).I32(3).U(1);                             // adding [3], removing []
  b.I8(1).I8(1).U(0);                             // is_new, recovery state, tags
  b.U(0);                                         // topic tags
  b.U(2).I32(1).CompactStr("h").I32(9092).U(0);   // live leaders
  b.U(0);                                         // tags
  ExpectWire(m, 7, b);
}

TEST(InterBrokerWire, LeaderAndIsrResponseByNameThenByTopicId) {
  LeaderAndIsrResponse v4;
  v4.partition_errors.push_back({.topic_name = "t", .partition_index = 3, .error_code = 6});
  ExpectWire(v4, 4, WireBytes().I16(0).U(2).CompactStr("t").I32(3).I16(6).U(0).U(0));
  LeaderAndIsrResponse v5;
  auto& topic = v5.topics.emplace_back();
  topic.topic_id = SomeId();
  topic.partition_errors.push_back({.partition_index = 3, .error_code = 6});
  ExpectWire(v5, 5, WireBytes().I16(0).U(2).Id(SomeId()).U(2).I32(3).I16(6).U(0).U(0).U(0));
}

TEST(InterBrokerWire, UpdateMetadataV0HasOneHostAndPortPerBroker) {
  UpdateMetadataRequest m;
  m.controller_id = 1;
  m.controller_epoch = 2;
  auto& broker = m.live_brokers.emplace_back();
  broker.id = 4;
  broker.v0_host = "h";
  broker.v0_port = 9092;
  ExpectWire(m, 0, WireBytes().I32(1).I32(2).I32(0).I32(1).I32(4).Str("h").I32(9092));
}

TEST(InterBrokerWire, UpdateMetadataV8CarriesTheTypeAsATaggedField) {
  UpdateMetadataRequest m;
  m.controller_id = 1;
  m.controller_epoch = 2;
  m.broker_epoch = 10;
  m.type = 2;
  auto& topic = m.topic_states.emplace_back();
  topic.topic_name = "t";
  topic.topic_id = SomeId();
  auto& p = topic.partition_states.emplace_back();
  p.partition_index = 0;
  p.leader = 4;
  p.offline_replicas = {5};
  auto& broker = m.live_brokers.emplace_back();
  broker.id = 4;
  broker.endpoints.push_back(
      {.port = 9092, .host = "h", .listener = "L", .security_protocol = 0});
  broker.rack = std::nullopt;
  WireBytes b;
  b.I32(1).I8(0).I32(2).I64(10);                    // id, kraft, epoch, broker epoch
  b.U(2).CompactStr("t").Id(SomeId());              // 1 topic
  b.U(2).I32(0).I32(0).I32(4).I32(0);               // partition, controller epoch, leader, epoch
  b.U(1).I32(0).U(1).U(2).I32(5).U(0);              // isr [], zk version, replicas [], offline
  b.U(0);                                           // topic tags
  b.U(2).I32(4);                                    // 1 broker
  b.U(2).I32(9092).CompactStr("h").CompactStr("L").I16(0).U(0);  // 1 endpoint
  b.U(0).U(0);                                      // rack null, broker tags
  b.U(1).U(0).U(1).I8(2);                           // tags: type (tag 0) = 2
  ExpectWire(m, 8, b);
  // Type 0 (the default) is left out.
  m.type = 0;
  Writer w;
  m.Encode(w, 8);
  std::vector<uint8_t> without = b.bytes();
  without.resize(without.size() - 4);
  without.push_back(0);
  EXPECT_EQ(w.Take(), without);
}

TEST(InterBrokerWire, StopReplicaV0ThenPerPartitionStatesInV3) {
  StopReplicaRequest v0;
  v0.controller_id = 1;
  v0.controller_epoch = 2;
  v0.delete_partitions = true;
  v0.ungrouped_partitions.push_back({.topic_name = "t", .partition_index = 3});
  ExpectWire(v0, 0, WireBytes().I32(1).I32(2).I8(1).I32(1).Str("t").I32(3));

  StopReplicaRequest v3;
  v3.controller_id = 1;
  v3.controller_epoch = 2;
  v3.broker_epoch = 10;
  auto& topic = v3.topic_states.emplace_back();
  topic.topic_name = "t";
  topic.partition_states.push_back(
      {.partition_index = 3, .leader_epoch = -2, .delete_partition = true});
  ExpectWire(v3, 3,
             WireBytes().I32(1).I32(2).I64(10).U(2).CompactStr("t").U(2).I32(3).I32(-2).I8(1).U(0)
                 .U(0).U(0));
}

TEST(InterBrokerWire, AlterPartitionV0ByNameV3WithBrokerEpochs) {
  AlterPartitionRequest v0;
  v0.broker_id = 1;
  v0.broker_epoch = 10;
  auto& t0 = v0.topics.emplace_back();
  t0.topic_name = "t";
  auto& p0 = t0.partitions.emplace_back();
  p0.partition_index = 3;
  p0.leader_epoch = 5;
  p0.new_isr = {1, 2};
  p0.partition_epoch = 7;
  ExpectWire(v0, 0,
             WireBytes().I32(1).I64(10).U(2).CompactStr("t").U(2).I32(3).I32(5).U(3).I32(1).I32(2)
                 .I32(7).U(0).U(0).U(0));

  AlterPartitionRequest v3;
  v3.broker_id = 1;
  v3.broker_epoch = 10;
  auto& t3 = v3.topics.emplace_back();
  t3.topic_id = SomeId();
  auto& p3 = t3.partitions.emplace_back();
  p3.partition_index = 3;
  p3.leader_epoch = 5;
  p3.new_isr_with_epochs.push_back({.broker_id = 2, .broker_epoch = 20});
  p3.leader_recovery_state = 1;
  p3.partition_epoch = 7;
  ExpectWire(v3, 3,
             WireBytes().I32(1).I64(10).U(2).Id(SomeId()).U(2).I32(3).I32(5).U(2).I32(2).I64(20)
                 .U(0).I8(1).I32(7).U(0).U(0).U(0));
}

TEST(InterBrokerWire, ControlledShutdownV3IsFlexible) {
  ControlledShutdownRequest v1;
  v1.broker_id = 1;
  ExpectWire(v1, 1, WireBytes().I32(1));
  ControlledShutdownRequest v2 = v1;
  v2.broker_epoch = 10;
  ExpectWire(v2, 2, WireBytes().I32(1).I64(10));
  ExpectWire(v2, 3, WireBytes().I32(1).I64(10).U(0));
  ControlledShutdownResponse resp;
  resp.remaining_partitions.push_back({.topic_name = "t", .partition_index = 3});
  ExpectWire(resp, 2, WireBytes().I16(0).I32(1).Str("t").I32(3));
  ExpectWire(resp, 3, WireBytes().I16(0).U(2).CompactStr("t").I32(3).U(0).U(0));
  // v0 goes with the one request header without a client id.
  EXPECT_EQ(RequestHeaderVersion(ControlledShutdownRequest::kApiKey, 0), 0);
  EXPECT_EQ(RequestHeaderVersion(ControlledShutdownRequest::kApiKey, 1), 1);
  EXPECT_EQ(RequestHeaderVersion(ControlledShutdownRequest::kApiKey, 3), 2);
}

}  // namespace
}  // namespace sluice::protocol
