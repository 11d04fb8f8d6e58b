// DeleteGroups: an empty group's offsets and metadata are removed
// (tombstones in __consumer_offsets); a group with members is refused with
// NON_EMPTY_GROUP.
#include <memory>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleDeleteGroups(RequestContext ctx, protocol::DeleteGroupsRequest request) {
  auto shared = std::make_shared<RequestContext>(std::move(ctx));
  std::vector<std::string> ids = request.groups_names;
  shared->services->groups.DeleteGroups(
      std::move(ids), [shared, names = std::move(request.groups_names)](
                          std::vector<protocol::ErrorCode> errors) {
        protocol::DeleteGroupsResponse response;
        for (size_t i = 0; i < names.size(); ++i) {
          auto& r = response.results.emplace_back();
          r.group_id = names[i];
          r.error_code = protocol::ToWire(errors[i]);
          shared->RecordError(r.error_code);
        }
        shared->Respond(response);
      });
}

}  // namespace sluice::api
