// ElectLeaders (KIP-183, KIP-460) against bytes written out by hand from
// Kafka's schemas: v0 without the election type or top-level error, v1
// with both, v2 compact and tagged; a null partition list (every
// partition) distinct from an empty one, and a null error message.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/generated/elect_leaders.h"
#include "support/wire_bytes.h"

namespace sluice::protocol {
namespace {

using testing::WireBytes;
using testing::ExpectWire;

ElectLeadersRequest SomeRequest(int8_t type) {
  ElectLeadersRequest m;
  m.election_type = type;
  auto& t = m.topic_partitions->emplace_back();
  t.topic = "t";
  t.partition_id = {0, 2};
  m.timeout_ms = 5000;
  return m;
}

TEST(ElectLeadersWire, RequestV0HasNoElectionType) {
  WireBytes b;
  b.I32(1).Str("t").I32(2).I32(0).I32(2);  // one topic, partitions 0 and 2
  b.I32(5000);
  ExpectWire(SomeRequest(0), 0, b);
}

TEST(ElectLeadersWire, RequestV1StartsWithTheElectionType) {
  WireBytes b;
  b.I8(1);
  b.I32(1).Str("t").I32(2).I32(0).I32(2);
  b.I32(5000);
  ExpectWire(SomeRequest(1), 1, b);
}

TEST(ElectLeadersWire, RequestV2IsCompactWithTaggedFields) {
  WireBytes b;
  b.I8(1);
  b.U(2).CompactStr("t").U(3).I32(0).I32(2).U(0);  // topic array, its tags
  b.I32(5000).U(0);
  ExpectWire(SomeRequest(1), 2, b);
}

TEST(ElectLeadersWire, NullPartitionsMeanEveryPartition) {
  ElectLeadersRequest all;
  all.topic_partitions = std::nullopt;
  all.timeout_ms = 100;
  ExpectWire(all, 0, WireBytes().I32(-1).I32(100));
  ExpectWire(all, 1, WireBytes().I8(0).I32(-1).I32(100));
  ExpectWire(all, 2, WireBytes().I8(0).U(0).I32(100).U(0));
  // Empty is not null: no partition at all.
  ElectLeadersRequest none;
  none.timeout_ms = 100;
  ExpectWire(none, 0, WireBytes().I32(0).I32(100));
  ExpectWire(none, 2, WireBytes().I8(0).U(1).I32(100).U(0));
  // A fresh request names no partition (the default is not "all").
  EXPECT_EQ(ElectLeadersRequest().topic_partitions,
            std::vector<ElectLeadersRequest::TopicPartitions>{});
}

ElectLeadersResponse SomeResponse() {
  ElectLeadersResponse m;
  m.throttle_time_ms = 0;
  m.error_code = 0;
  auto& t = m.replica_election_results.emplace_back();
  t.topic = "t";
  auto& ok = t.partition_result.emplace_back();
  ok.partition_id = 0;
  auto& not_needed = t.partition_result.emplace_back();
  not_needed.partition_id = 2;
  not_needed.error_code = 84;  // ELECTION_NOT_NEEDED
  not_needed.error_message = "x";
  return m;
}

TEST(ElectLeadersWire, ResponseV0HasOnlyPerPartitionErrors) {
  WireBytes b;
  b.I32(0);                   // throttle
  b.I32(1).Str("t").I32(2);   // one topic, two partitions
  b.I32(0).I16(0).I16(-1);    // partition 0: ok, null message
  b.I32(2).I16(84).Str("x");  // partition 2
  ExpectWire(SomeResponse(), 0, b);
}

TEST(ElectLeadersWire, ResponseV1AddsTheTopLevelError) {
  ElectLeadersResponse m = SomeResponse();
  m.error_code = 41;  // NOT_CONTROLLER
  m.replica_election_results.clear();
  ExpectWire(m, 1, WireBytes().I32(0).I16(41).I32(0));
  WireBytes b;
  b.I32(0).I16(0);
  b.I32(1).Str("t").I32(2);
  b.I32(0).I16(0).I16(-1);
  b.I32(2).I16(84).Str("x");
  ExpectWire(SomeResponse(), 1, b);
}

TEST(ElectLeadersWire, ResponseV2IsCompactWithTaggedFields) {
  WireBytes b;
  b.I32(0).I16(0);
  b.U(2).CompactStr("t").U(3);
  b.I32(0).I16(0).U(0).U(0);  // null message (0), tags
  b.I32(2).I16(84).CompactStr("x").U(0);
  b.U(0);  // the topic's tags
  b.U(0);  // the response's tags
  ExpectWire(SomeResponse(), 2, b);
}

}  // namespace
}  // namespace sluice::protocol
