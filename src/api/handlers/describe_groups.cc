// DescribeGroups: state, protocol and members of each group; an unknown
// group is described as Dead without an error, as Kafka does.
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

// Without ACLs every group operation is allowed: READ, DELETE, DESCRIBE
// (Kafka's AclOperation codes 3, 6 and 8 as bits).
constexpr int32_t kAllGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

}  // namespace

void HandleDescribeGroups(RequestContext ctx, protocol::DescribeGroupsRequest request) {
  protocol::DescribeGroupsResponse response;
  for (const std::string& id : request.groups) {
    group::GroupDescription d = ctx.services->groups.DescribeGroup(id);
    auto& out = response.groups.emplace_back();
    out.error_code = protocol::ToWire(d.error);
    ctx.RecordError(out.error_code);
    out.group_id = id;
    out.group_state = std::string(group::GroupStateName(d.state));
    out.protocol_type = d.protocol_type;
    out.protocol_data = d.protocol;
    for (auto& m : d.members) {
      auto& member = out.members.emplace_back();
      member.member_id = std::move(m.member_id);
      member.group_instance_id = std::move(m.group_instance_id);
      member.client_id = std::move(m.client_id);
      member.client_host = std::move(m.client_host);
      member.member_metadata = std::move(m.metadata);
      member.member_assignment = std::move(m.assignment);
    }
    if (request.include_authorized_operations) out.authorized_operations = kAllGroupOperations;
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
