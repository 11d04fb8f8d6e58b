// DescribeCluster (KIP-700): the brokers and the controller
// (cluster_state.h); on a single node, this broker.
#include "api/handlers/cluster_state.h"
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
  ClusterState cluster = CurrentClusterState(services);
  response.controller_id = cluster.controller_id;
  for (BrokerEndpoint& b : cluster.brokers) {
    auto& broker = response.brokers.emplace_back();
    broker.broker_id = b.id;
    broker.host = std::move(b.host);
    broker.port = b.port;
    broker.rack = std::move(b.rack);
  }
  ctx.RecordError(response.error_code);
  ctx.Respond(response);
}

}  // namespace sluice::api
