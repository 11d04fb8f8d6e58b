// ListOffsets: earliest (-2), latest (-1), max timestamp (-3, KIP-734, v7)
// and by timestamp, answered as Kafka does. A consumer (replica_id -1) sees
// offsets below the high watermark only: "latest" is the high watermark, and
// a lookup that finds a record at or above it answers -1 (no offset). With
// no transactions yet, read_committed's last stable offset is the high
// watermark too. Any other replica id (a broker, or -2 for debugging tools)
// is bounded by the log end offset instead. A timestamp lookup answers the
// first *record* whose timestamp reaches the target, not its batch.
#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "api/handlers/partition_errors.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;
constexpr int32_t kConsumerReplicaId = -1;

}  // namespace

void HandleListOffsets(RequestContext ctx, protocol::ListOffsetsRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_response = response.topics.emplace_back();
    topic_response.name = topic.name;
    for (const auto& want : topic.partitions) {
      auto& r = topic_response.partitions.emplace_back();
      r.partition_index = want.partition_index;
      auto partition = services.partitions.Get(topic.name, want.partition_index);
      if (!partition) {
        r.error_code = ToWire(MissingPartitionError(services, topic.name, want.partition_index));
        continue;
      }
      if (ErrorCode e = LeaderEpochError(*partition, want.current_leader_epoch);
          e != ErrorCode::NONE) {
        r.error_code = ToWire(e);
        continue;
      }
      const int64_t last_fetchable = request.replica_id == kConsumerReplicaId
                                         ? partition->high_watermark()
                                         : partition->log_end_offset();
      r.leader_epoch = partition->leader_epoch();
      if (want.timestamp == kEarliest) {
        r.offset = partition->log_start_offset();
      } else if (want.timestamp == kLatest) {
        r.offset = last_fetchable;
      } else if (want.timestamp < 0 && want.timestamp != kMaxTimestamp) {
        r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
      } else {
        auto found = want.timestamp == kMaxTimestamp
                         ? partition->FindMaxTimestamp()
                         : partition->FindOffsetByTimestamp(want.timestamp);
        if (!found.ok()) {
          r.error_code = ToWire(StorageError(found.status()));
        } else if (found->has_value() && (*found)->offset < last_fetchable) {
          r.offset = (*found)->offset;
          r.timestamp = (*found)->timestamp;
          r.leader_epoch = (*found)->leader_epoch;
        } else {
          // No record at or after the timestamp that may be exposed yet.
          r.leader_epoch = -1;
        }
      }
    }
  }
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
