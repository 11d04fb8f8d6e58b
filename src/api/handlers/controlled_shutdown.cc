// ControlledShutdown: a broker about to stop asks the controller to move its
// leaderships away first; the answer lists the partitions it still leads
// (controller::PartitionStateMachine::ControlledShutdown). Served by the
// controller (api::ControllerService); any other broker answers
// NOT_CONTROLLER and the sender looks for the controller again.
// Cluster-only.
//
// The broker epoch (v2+) is not checked, so STALE_BROKER_EPOCH is never
// answered: brokers here register no epoch yet and send -1, which Kafka's
// controller also accepts without a check.
#include <memory>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ControlledShutdownRequest;
using protocol::ControlledShutdownResponse;
using protocol::ErrorCode;
using protocol::ToWire;

ErrorCode ToErrorCode(controller::ControlledShutdownError e) {
  using E = controller::ControlledShutdownError;
  switch (e) {
    case E::kNone: return ErrorCode::NONE;
    case E::kNotController: return ErrorCode::NOT_CONTROLLER;
    case E::kBrokerNotAvailable: return ErrorCode::BROKER_NOT_AVAILABLE;
  }
  return ErrorCode::UNKNOWN_SERVER_ERROR;
}

}  // namespace

void HandleControlledShutdown(RequestContext ctx, ControlledShutdownRequest request) {
  auto held = std::make_shared<RequestContext>(std::move(ctx));
  held->services->controller->ControlledShutdown(
      request.broker_id, [held](controller::ControlledShutdownResult result) {
        ControlledShutdownResponse response;
        response.error_code = ToWire(ToErrorCode(result.error));
        held->RecordError(response.error_code);
        for (const controller::TopicPartition& tp : result.remaining) {
          response.remaining_partitions.push_back(
              {.topic_name = tp.topic, .partition_index = tp.partition});
        }
        held->Respond(response);
      });
}

}  // namespace sluice::api
