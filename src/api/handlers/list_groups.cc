// ListGroups: every group, optionally only those in the given states (v4+;
// state names are matched without regard to case, unknown names match none).
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleListGroups(RequestContext ctx, protocol::ListGroupsRequest request) {
  std::vector<group::GroupState> states;
  bool unknown_state = false;
  for (const std::string& name : request.states_filter) {
    if (auto s = group::ParseGroupState(name)) {
      states.push_back(*s);
    } else {
      unknown_state = true;
    }
  }
  protocol::ListGroupsResponse response;
  if (!(unknown_state && states.empty())) {
    for (auto& g : ctx.services->groups.ListGroups(states)) {
      auto& out = response.groups.emplace_back();
      out.group_id = std::move(g.group_id);
      out.protocol_type = std::move(g.protocol_type);
      out.group_state = std::string(group::GroupStateName(g.state));
    }
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
