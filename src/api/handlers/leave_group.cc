// LeaveGroup: v0-v2 remove the calling member; v3+ remove a batch of
// members named by member id or static instance id (KIP-345).
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleLeaveGroup(RequestContext ctx, protocol::LeaveGroupRequest request) {
  std::vector<group::MemberIdentity> members;
  if (ctx.version() < 3) {
    members.push_back({request.member_id, std::nullopt});
  } else {
    for (auto& m : request.members) members.push_back({m.member_id, m.group_instance_id});
  }
  auto [top, errors] = ctx.services->groups.LeaveGroup(request.group_id, members);
  protocol::LeaveGroupResponse response;
  response.error_code = protocol::ToWire(top);
  if (ctx.version() < 3) {
    // One member: its error is the response's.
    if (top == protocol::ErrorCode::NONE && !errors.empty()) {
      response.error_code = protocol::ToWire(errors.front());
    }
  } else {
    for (size_t i = 0; i < members.size(); ++i) {
      auto& out = response.members.emplace_back();
      out.member_id = members[i].member_id;
      out.group_instance_id = members[i].group_instance_id;
      out.error_code = protocol::ToWire(errors[i]);
      ctx.RecordError(out.error_code);
    }
  }
  ctx.RecordError(response.error_code);
  ctx.Respond(response);
}

}  // namespace sluice::api
