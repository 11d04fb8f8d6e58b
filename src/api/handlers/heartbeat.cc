// Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it
// to rejoin.
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleHeartbeat(RequestContext ctx, protocol::HeartbeatRequest request) {
  protocol::HeartbeatResponse response;
  response.error_code = protocol::ToWire(ctx.services->groups.Heartbeat(
      request.group_id, request.generation_id, request.member_id, request.group_instance_id));
  ctx.RecordError(response.error_code);
  ctx.Respond(response);
}

}  // namespace sluice::api
