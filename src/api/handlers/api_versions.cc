// ApiVersions: the first request on every connection. Advertises exactly the
// handler table, so clients never pick an API or version we cannot serve.
#include <algorithm>

#include "api/handler_table.h"
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleApiVersions(RequestContext ctx, protocol::ApiVersionsRequest /*request*/) {
  protocol::ApiVersionsResponse response;
  response.error_code = protocol::ToWire(protocol::ErrorCode::NONE);
  for (const HandlerEntry& e : Handlers()) {
    if (e.cluster_only && ctx.services->replicas == nullptr) continue;
    protocol::ApiVersionsResponse::ApiVersion v;
    v.api_key = e.api_key;
    v.min_version = e.min_version;
    v.max_version = e.max_version;
    response.api_keys.push_back(v);
  }
  std::sort(response.api_keys.begin(), response.api_keys.end(),
            [](const auto& a, const auto& b) { return a.api_key < b.api_key; });
  ctx.Respond(response);
}

}  // namespace sluice::api
