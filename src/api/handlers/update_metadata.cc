// UpdateMetadata: the controller's word on every partition's leader, ISR
// and replicas, which this broker's Metadata answers from
// (cluster/metadata_cache.h). Applied on the shard: the cache swaps one
// pointer. A request from an older controller epoch is refused with
// STALE_CONTROLLER_EPOCH. Cluster-only.
#include <vector>

#include "api/handlers/handlers.h"
#include "cluster/metadata_cache.h"
#include "interbroker/message_conversion.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleUpdateMetadata(RequestContext ctx, protocol::UpdateMetadataRequest request) {
  const controller::UpdateMetadataRequest decoded = interbroker::FromWire(request);
  std::vector<cluster::PartitionUpdate> updates;
  updates.reserve(decoded.partitions.size());
  for (const controller::PartitionLeaderInfo& p : decoded.partitions) {
    cluster::PartitionUpdate& u = updates.emplace_back();
    u.topic = p.topic;
    u.topic_id = p.topic_id;
    u.partition = p.partition;
    u.state.leader = p.leader;  // kLeaderDuringDelete is PartitionUpdate::kDeleted
    u.state.leader_epoch = p.leader_epoch;
    u.state.partition_epoch = p.partition_epoch;
    u.state.replicas = p.replicas;
    u.state.isr = p.isr;
    u.state.offline_replicas = p.offline_replicas;
  }
  static_assert(controller::kLeaderDuringDelete == cluster::PartitionUpdate::kDeleted);
  protocol::UpdateMetadataResponse response;
  if (!ctx.services->metadata_cache->Update(decoded.controller_epoch, updates)) {
    response.error_code = protocol::ToWire(protocol::ErrorCode::STALE_CONTROLLER_EPOCH);
    ctx.RecordError(response.error_code);
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
