// StopReplica: the controller tells this broker to stop replicating
// partitions (a reassignment moved them away) and whether to delete their
// logs (the topic is being deleted). Applied on the metadata thread, like
// LeaderAndIsr. Cluster-only.
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "interbroker/message_conversion.h"
#include "protocol/error_code.h"
#include "replication/replica_manager.h"

namespace sluice::api {
namespace {

using protocol::StopReplicaRequest;
using protocol::StopReplicaResponse;
using protocol::ToWire;

void Apply(RequestContext& ctx, const StopReplicaRequest& request) {
  const replication::ApplyResult applied =
      ctx.services->replicas->ApplyStopReplica(interbroker::FromWire(request));
  StopReplicaResponse response;
  response.error_code = ToWire(applied.error);
  ctx.RecordError(response.error_code);
  for (const replication::PartitionResult& r : applied.partitions) {
    auto& e = response.partition_errors.emplace_back();
    e.topic_name = r.topic;
    e.partition_index = r.partition;
    e.error_code = ToWire(r.error);
    ctx.RecordError(e.error_code);
  }
  ctx.Respond(response);
}

}  // namespace

void HandleStopReplica(RequestContext ctx, StopReplicaRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &Apply);
}

}  // namespace sluice::api
