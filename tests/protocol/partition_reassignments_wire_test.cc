// AlterPartitionReassignments and ListPartitionReassignments (KIP-455, v0,
// flexible) against bytes written out by hand from Kafka's schemas: null
// replicas (cancel) distinct from an empty list, null topics (list
// everything), and the nullable error messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/generated/alter_partition_reassignments.h"
#include "protocol/generated/list_partition_reassignments.h"
#include "support/wire_bytes.h"

namespace sluice::protocol {
namespace {

using testing::WireBytes;
using testing::ExpectWire;

TEST(PartitionReassignmentsWire, AlterRequestNullReplicasCancel) {
  AlterPartitionReassignmentsRequest m;
  m.timeout_ms = 5000;
  auto& t = m.topics.emplace_back();
  t.name = "t";
  auto& move = t.partitions.emplace_back();
  move.partition_index = 0;
  move.replicas = std::vector<int32_t>{2, 3};
  auto& cancel = t.partitions.emplace_back();
  cancel.partition_index = 1;
  WireBytes b;
  b.I32(5000);
  b.U(2).CompactStr("t").U(3);
  b.I32(0).U(3).I32(2).I32(3).U(0);  // partition 0 to {2, 3}, its tags
  b.I32(1).U(0).U(0);                // partition 1: null replicas (cancel)
  b.U(0);                            // the topic's tags
  b.U(0);                            // the request's tags
  ExpectWire(m, 0, b);
  // A fresh partition cancels: its replicas start null.
  EXPECT_FALSE(AlterPartitionReassignmentsRequest::ReassignablePartition().replicas);
}

TEST(PartitionReassignmentsWire, AlterResponseHasTopLevelAndPartitionErrors) {
  AlterPartitionReassignmentsResponse m;
  m.error_code = 0;
  auto& t = m.responses.emplace_back();
  t.name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 1;
  p.error_code = 85;  // NO_REASSIGNMENT_IN_PROGRESS
  p.error_message = "x";
  WireBytes b;
  b.I32(0).I16(0).U(0);  // throttle, error, null message
  b.U(2).CompactStr("t").U(2);
  b.I32(1).I16(85).CompactStr("x").U(0);
  b.U(0).U(0);
  ExpectWire(m, 0, b);
}

TEST(PartitionReassignmentsWire, ListRequestNullTopicsListEverything) {
  ListPartitionReassignmentsRequest all;
  all.timeout_ms = 100;
  EXPECT_FALSE(all.topics);
  ExpectWire(all, 0, WireBytes().I32(100).U(0).U(0));
  ListPartitionReassignmentsRequest some;
  some.timeout_ms = 100;
  auto& t = some.topics.emplace().emplace_back();
  t.name = "t";
  t.partition_indexes = {4};
  ExpectWire(some, 0, WireBytes().I32(100).U(2).CompactStr("t").U(2).I32(4).U(0).U(0));
}

TEST(PartitionReassignmentsWire, ListResponseCarriesAddingAndRemoving) {
  ListPartitionReassignmentsResponse m;
  auto& t = m.topics.emplace_back();
  t.name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.replicas = {2, 4, 1};
  p.adding_replicas = {4};
  p.removing_replicas = {1};
  WireBytes b;
  b.I32(0).I16(0).U(0);
  b.U(2).CompactStr("t").U(2);
  b.I32(0).U(4).I32(2).I32(4).I32(1).U(2).I32(4).U(2).I32(1).U(0);
  b.U(0).U(0);
  ExpectWire(m, 0, b);
}

}  // namespace
}  // namespace sluice::protocol
