// JoinGroup: answered when the group's rebalance completes (or at once for
// an error, a MEMBER_ID_REQUIRED first join, or a member with nothing new).
#include <memory>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleJoinGroup(RequestContext ctx, protocol::JoinGroupRequest request) {
  group::JoinParams params;
  params.group_id = std::move(request.group_id);
  params.member_id = std::move(request.member_id);
  params.group_instance_id = std::move(request.group_instance_id);
  params.client_id = ctx.header.client_id.value_or("");
  params.client_host = ctx.client_host;
  params.session_timeout_ms = request.session_timeout_ms;
  // v0 has no rebalance timeout: the session timeout served as both.
  params.rebalance_timeout_ms =
      ctx.version() >= 1 ? request.rebalance_timeout_ms : request.session_timeout_ms;
  params.protocol_type = std::move(request.protocol_type);
  for (auto& p : request.protocols) {
    params.protocols.push_back({std::move(p.name), std::move(p.metadata)});
  }
  params.require_known_member_id = ctx.version() >= 4;

  auto shared = std::make_shared<RequestContext>(std::move(ctx));
  group::GroupCoordinator& groups = shared->services->groups;
  groups.JoinGroup(std::move(params), [shared](group::JoinGroupResult r) {
    protocol::JoinGroupResponse response;
    response.error_code = protocol::ToWire(r.error);
    response.generation_id = r.generation_id;
    response.protocol_type = r.protocol_type;
    response.protocol_name = r.protocol_name;
    if (shared->version() < 7 && !response.protocol_name) response.protocol_name = "";
    response.leader = std::move(r.leader_id);
    response.member_id = std::move(r.member_id);
    response.skip_assignment = r.skip_assignment;
    for (auto& m : r.members) {
      auto& out = response.members.emplace_back();
      out.member_id = std::move(m.member_id);
      out.group_instance_id = std::move(m.group_instance_id);
      out.metadata = std::move(m.metadata);
    }
    shared->RecordError(response.error_code);
    shared->Respond(response);
  });
}

}  // namespace sluice::api
