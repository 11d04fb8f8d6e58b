// AlterPartition (KIP-497): a partition leader asks the controller to change
// the ISR; the controller writes the new state to ZooKeeper (a conditional
// write) and answers with it, and only then does the leader use it. Served
// by the controller (api::ControllerService); any other broker answers
// NOT_CONTROLLER per partition. Topics by name (v0-1). Cluster-only.
#include <memory>
#include <vector>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::AlterPartitionRequest;
using protocol::AlterPartitionResponse;
using protocol::ErrorCode;
using protocol::ToWire;

ErrorCode ToErrorCode(controller::AlterPartitionError e) {
  using E = controller::AlterPartitionError;
  switch (e) {
    case E::kNone: return ErrorCode::NONE;
    case E::kNotController: return ErrorCode::NOT_CONTROLLER;
    case E::kUnknownTopicOrPartition: return ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
    case E::kFencedLeaderEpoch: return ErrorCode::FENCED_LEADER_EPOCH;
    case E::kInvalidUpdateVersion: return ErrorCode::INVALID_UPDATE_VERSION;
    case E::kIneligibleReplica: return ErrorCode::INELIGIBLE_REPLICA;
    case E::kInvalidRequest: return ErrorCode::INVALID_REQUEST;
    case E::kWriteFailed: return ErrorCode::UNKNOWN_SERVER_ERROR;
  }
  return ErrorCode::UNKNOWN_SERVER_ERROR;
}

}  // namespace

void HandleAlterPartition(RequestContext ctx, AlterPartitionRequest request) {
  std::vector<controller::AlterPartitionRequest> changes;
  for (const auto& t : request.topics) {
    for (const auto& p : t.partitions) {
      controller::AlterPartitionRequest& c = changes.emplace_back();
      c.broker_id = request.broker_id;
      c.topic = t.topic_name;
      c.partition = p.partition_index;
      c.leader_epoch = p.leader_epoch;
      c.partition_epoch = p.partition_epoch;
      c.new_isr = p.new_isr;
    }
  }
  auto held = std::make_shared<RequestContext>(std::move(ctx));
  ControllerService* controller = held->services->controller;
  controller->AlterPartition(
      changes, [held, changes](std::vector<controller::AlterPartitionResult> results) {
        AlterPartitionResponse response;
        for (size_t i = 0; i < changes.size() && i < results.size(); ++i) {
          const controller::AlterPartitionRequest& c = changes[i];
          const controller::AlterPartitionResult& r = results[i];
          if (response.topics.empty() || response.topics.back().topic_name != c.topic) {
            response.topics.emplace_back().topic_name = c.topic;
          }
          auto& p = response.topics.back().partitions.emplace_back();
          p.partition_index = c.partition;
          p.error_code = ToWire(ToErrorCode(r.error));
          held->RecordError(p.error_code);
          if (r.error == controller::AlterPartitionError::kNone) {
            p.leader_id = r.state.leader;
            p.leader_epoch = r.state.leader_epoch;
            p.isr = r.state.isr;
            p.partition_epoch = r.partition_epoch;
          }
        }
        held->Respond(response);
      });
}

}  // namespace sluice::api
