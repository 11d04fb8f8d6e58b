// LeaderAndIsr: the controller tells this broker which partitions it holds
// and, for each, whether it leads or follows whom (replication/
// replica_manager.h). Opening or creating logs is disk work, so the request
// is applied on the metadata thread, in arrival order, and answered there.
// Only a broker in a cluster serves it (the table marks it cluster-only).
// What it applies also goes into this broker's metadata cache at once.
#include <map>
#include <vector>

#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "cluster/metadata_cache.h"
#include "interbroker/message_conversion.h"
#include "protocol/error_code.h"
#include "replication/replica_manager.h"

namespace sluice::api {
namespace {

using protocol::LeaderAndIsrRequest;
using protocol::LeaderAndIsrResponse;
using protocol::ToWire;

// This broker's Metadata answers know at once what it was just told of the
// partitions it applied (cluster::MetadataCache::ApplyLeaderChanges).
void RememberLeaders(BrokerServices& services, const controller::LeaderAndIsrRequest& request,
                     const replication::ApplyResult& applied) {
  if (services.metadata_cache == nullptr) return;
  std::vector<cluster::PartitionUpdate> updates;
  for (size_t i = 0; i < request.partitions.size() && i < applied.partitions.size(); ++i) {
    if (applied.partitions[i].error != protocol::ErrorCode::NONE) continue;
    const controller::PartitionLeaderInfo& p = request.partitions[i];
    cluster::PartitionUpdate& u = updates.emplace_back();
    u.topic = p.topic;
    u.topic_id = p.topic_id;
    u.partition = p.partition;
    u.state.leader = p.leader;
    u.state.leader_epoch = p.leader_epoch;
    u.state.partition_epoch = p.partition_epoch;
    u.state.replicas = p.replicas;
    u.state.isr = p.isr;
  }
  services.metadata_cache->ApplyLeaderChanges(request.controller_epoch, updates);
}

void Apply(RequestContext& ctx, const LeaderAndIsrRequest& request) {
  BrokerServices& services = *ctx.services;
  const controller::LeaderAndIsrRequest decoded =
      interbroker::FromWire(request, services.inter_broker_listener);
  const replication::ApplyResult applied = services.replicas->ApplyLeaderAndIsr(decoded);
  if (applied.error == protocol::ErrorCode::NONE) RememberLeaders(services, decoded, applied);
  LeaderAndIsrResponse response;
  response.error_code = ToWire(applied.error);
  ctx.RecordError(response.error_code);
  std::map<std::string, controller::TopicUuid> ids;
  for (const auto& p : decoded.partitions) ids.emplace(p.topic, p.topic_id);
  std::map<std::string, size_t> topic_index;
  for (const replication::PartitionResult& r : applied.partitions) {
    LeaderAndIsrResponse::LeaderAndIsrPartitionError e;
    e.topic_name = r.topic;
    e.partition_index = r.partition;
    e.error_code = ToWire(r.error);
    ctx.RecordError(e.error_code);
    if (ctx.version() < 5) {
      response.partition_errors.push_back(std::move(e));
      continue;
    }
    auto [it, fresh] = topic_index.emplace(r.topic, response.topics.size());
    if (fresh) response.topics.emplace_back().topic_id = interbroker::ToWire(ids[r.topic]);
    response.topics[it->second].partition_errors.push_back(std::move(e));
  }
  ctx.Respond(response);
}

}  // namespace

void HandleLeaderAndIsr(RequestContext ctx, LeaderAndIsrRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &Apply);
}

}  // namespace sluice::api
