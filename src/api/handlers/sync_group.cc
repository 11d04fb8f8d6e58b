// SyncGroup: the leader hands in the assignment; every member gets its own
// share once the leader's has arrived and been stored.
#include <memory>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleSyncGroup(RequestContext ctx, protocol::SyncGroupRequest request) {
  group::SyncParams params;
  params.group_id = std::move(request.group_id);
  params.generation_id = request.generation_id;
  params.member_id = std::move(request.member_id);
  params.group_instance_id = std::move(request.group_instance_id);
  params.protocol_type = std::move(request.protocol_type);
  params.protocol_name = std::move(request.protocol_name);
  for (auto& a : request.assignments) {
    params.assignments.emplace_back(std::move(a.member_id), std::move(a.assignment));
  }
  auto shared = std::make_shared<RequestContext>(std::move(ctx));
  group::GroupCoordinator& groups = shared->services->groups;
  groups.SyncGroup(std::move(params), [shared](group::SyncGroupResult r) {
    protocol::SyncGroupResponse response;
    response.error_code = protocol::ToWire(r.error);
    response.protocol_type = std::move(r.protocol_type);
    response.protocol_name = std::move(r.protocol_name);
    response.assignment = std::move(r.assignment);
    shared->RecordError(response.error_code);
    shared->Respond(response);
  });
}

}  // namespace sluice::api
