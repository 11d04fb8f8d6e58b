// OffsetForLeaderEpoch: the end offset of a leader epoch (the start of the
// next epoch, or the log end offset for the latest), from the log's epoch
// history. A current_leader_epoch other than the partition's is fenced or
// unknown, as in Fetch. An epoch newer than every epoch in the log (or an
// empty history) answers epoch -1 / offset -1 without an error, as Kafka does.
#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "api/handlers/partition_errors.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

}  // namespace

void HandleOffsetForLeaderEpoch(RequestContext ctx, protocol::OffsetForLeaderEpochRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::OffsetForLeaderEpochResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_response = response.topics.emplace_back();
    topic_response.topic = topic.topic;
    for (const auto& want : topic.partitions) {
      auto& r = topic_response.partitions.emplace_back();
      r.partition = want.partition;
      r.leader_epoch = -1;
      r.end_offset = -1;
      auto partition = services.partitions.Get(topic.topic, want.partition);
      if (!partition) {
        r.error_code = ToWire(MissingPartitionError(services, topic.topic, want.partition));
        continue;
      }
      if (ErrorCode e = LeaderEpochError(*partition, want.current_leader_epoch);
          e != ErrorCode::NONE) {
        r.error_code = ToWire(e);
        continue;
      }
      auto [epoch, end_offset] = partition->EndOffsetForEpoch(want.leader_epoch);
      r.leader_epoch = epoch;
      r.end_offset = end_offset;
    }
  }
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
