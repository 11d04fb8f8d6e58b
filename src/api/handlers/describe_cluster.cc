// DescribeCluster (KIP-700): the brokers and the controller, which on a
// single node are this broker.
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleDescribeCluster(RequestContext ctx, protocol::DescribeClusterRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::DescribeClusterResponse response;
  if (ctx.version() >= 1 && request.endpoint_type != 1) {
    // Only broker endpoints (type 1) exist here; controllers are not separate.
    response.error_code = protocol::ToWire(protocol::ErrorCode::UNSUPPORTED_ENDPOINT_TYPE);
    response.error_message = "only broker endpoints (endpoint_type 1) are served";
    ctx.RecordError(response.error_code);
    ctx.Respond(response);
    return;
  }
  response.cluster_id = services.cluster_id;
  response.controller_id = services.broker_id;
  auto& self = response.brokers.emplace_back();
  self.broker_id = services.broker_id;
  self.host = services.advertised.host;
  self.port = services.advertised.port;
  ctx.RecordError(response.error_code);
  ctx.Respond(response);
}

}  // namespace sluice::api
