// OffsetCommit: offsets of partitions that exist are stored in
// __consumer_offsets and answered once durable; the group's generation and
// member are checked first (a standalone consumer commits with generation
// -1 and no member id).
#include <memory>

#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

using protocol::ErrorCode;

void HandleOffsetCommit(RequestContext ctx, protocol::OffsetCommitRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::OffsetCommitResponse response;
  group::OffsetCommitParams params;
  params.group_id = request.group_id;
  params.generation_id = ctx.version() >= 1 ? request.generation_id : -1;
  params.member_id = request.member_id;
  params.group_instance_id = request.group_instance_id;
  // Where each committed partition's error goes in the response.
  std::vector<std::pair<size_t, size_t>> slots;
  for (const auto& topic : request.topics) {
    auto& t = response.topics.emplace_back();
    t.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& r = t.partitions.emplace_back();
      r.partition_index = p.partition_index;
      if (!PartitionExists(services, topic.name, p.partition_index)) {
        r.error_code = protocol::ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      params.partitions.push_back(
          {topic.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
           p.committed_metadata});
      slots.emplace_back(response.topics.size() - 1, t.partitions.size() - 1);
    }
  }
  auto shared = std::make_shared<RequestContext>(std::move(ctx));
  auto pending = std::make_shared<protocol::OffsetCommitResponse>(std::move(response));
  services.groups.CommitOffsets(
      std::move(params), [shared, pending, slots](std::vector<ErrorCode> errors) {
        for (size_t i = 0; i < slots.size() && i < errors.size(); ++i) {
          pending->topics[slots[i].first].partitions[slots[i].second].error_code =
              protocol::ToWire(errors[i]);
        }
        for (const auto& t : pending->topics) {
          for (const auto& p : t.partitions) shared->RecordError(p.error_code);
        }
        shared->Respond(*pending);
      });
}

}  // namespace sluice::api
