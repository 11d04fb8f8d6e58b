// FindCoordinator: on a single node this broker coordinates every group.
// Asking for a group creates __consumer_offsets first if it does not exist
// (as Kafka does), so the coordinator can store what the group commits.
// Transaction coordinators do not exist yet: that is a fatal error for a
// transactional producer rather than an endless retry.
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;

constexpr int8_t kGroupKey = 0;
constexpr int8_t kTransactionKey = 1;

struct Answer {
  ErrorCode error = ErrorCode::NONE;
  std::optional<std::string> message;
};

Answer Lookup(BrokerServices& services, int8_t key_type) {
  if (key_type == kTransactionKey) {
    return {ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            "transactions are not supported by this broker"};
  }
  if (key_type != kGroupKey) return {ErrorCode::INVALID_REQUEST, "unknown key type"};
  Status s = services.groups.EnsureReady();
  if (!s.ok()) return {ErrorCode::COORDINATOR_NOT_AVAILABLE, s.message()};
  return {};
}

}  // namespace

void HandleFindCoordinator(RequestContext ctx, protocol::FindCoordinatorRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::FindCoordinatorResponse response;
  if (ctx.version() < 4) {
    Answer a = Lookup(services, request.key_type);
    response.error_code = protocol::ToWire(a.error);
    response.error_message = a.message;
    if (a.error == ErrorCode::NONE) {
      response.node_id = services.broker_id;
      response.host = services.advertised.host;
      response.port = services.advertised.port;
    } else {
      response.node_id = -1;
      response.port = -1;
    }
    ctx.RecordError(response.error_code);
  } else {
    for (const std::string& key : request.coordinator_keys) {
      Answer a = Lookup(services, request.key_type);
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.error_code = protocol::ToWire(a.error);
      c.error_message = a.message;
      c.node_id = a.error == ErrorCode::NONE ? services.broker_id : -1;
      c.host = a.error == ErrorCode::NONE ? services.advertised.host : "";
      c.port = a.error == ErrorCode::NONE ? services.advertised.port : -1;
      ctx.RecordError(c.error_code);
    }
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
