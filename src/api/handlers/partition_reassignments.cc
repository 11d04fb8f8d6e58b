// AlterPartitionReassignments and ListPartitionReassignments (KIP-455):
// an admin moves partitions to new replicas, or cancels a move, and lists
// the moves in progress. Served by the controller (api::ControllerService);
// any other broker answers NOT_CONTROLLER at the top level, as Kafka's
// ZooKeeper-mode brokers do. AlterPartitionReassignments is answered once
// the new replica sets are in ZooKeeper and the replicas told; the data
// moves afterwards, and ListPartitionReassignments shows the partition
// until its target replicas have all joined the ISR. A partition named
// twice in one request is refused (INVALID_REQUEST) rather than applied in
// some order. Cluster-only.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using controller::ReassignmentError;
using controller::ReassignmentErrorName;
using controller::TopicPartition;
using protocol::AlterPartitionReassignmentsRequest;
using protocol::AlterPartitionReassignmentsResponse;
using protocol::ErrorCode;
using protocol::ListPartitionReassignmentsRequest;
using protocol::ListPartitionReassignmentsResponse;
using protocol::ToWire;

ErrorCode ToErrorCode(ReassignmentError e) {
  switch (e) {
    case ReassignmentError::kNone: return ErrorCode::NONE;
    case ReassignmentError::kNotController: return ErrorCode::NOT_CONTROLLER;
    case ReassignmentError::kUnknownTopicOrPartition: return ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
    case ReassignmentError::kInvalidReplicaAssignment: return ErrorCode::INVALID_REPLICA_ASSIGNMENT;
    case ReassignmentError::kNoReassignmentInProgress:
      return ErrorCode::NO_REASSIGNMENT_IN_PROGRESS;
    case ReassignmentError::kWriteFailed: return ErrorCode::UNKNOWN_SERVER_ERROR;
  }
  return ErrorCode::UNKNOWN_SERVER_ERROR;
}

constexpr const char* kNotControllerMessage = "This broker is not the controller.";

struct PartitionAnswer {
  ErrorCode error = ErrorCode::NONE;
  std::optional<std::string> message;
};

void AnswerAlter(RequestContext& ctx, const std::map<TopicPartition, PartitionAnswer>& answers) {
  AlterPartitionReassignmentsResponse response;
  // Ordered by topic, then partition: one entry per topic.
  for (const auto& [tp, a] : answers) {
    if (response.responses.empty() || response.responses.back().name != tp.topic) {
      response.responses.emplace_back().name = tp.topic;
    }
    auto& p = response.responses.back().partitions.emplace_back();
    p.partition_index = tp.partition;
    p.error_code = ToWire(a.error);
    p.error_message = a.message;
    ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace

void HandleAlterPartitionReassignments(RequestContext ctx,
                                       AlterPartitionReassignmentsRequest request) {
  std::vector<ReassignmentChange> changes;
  std::map<TopicPartition, int> named;
  for (const auto& t : request.topics) {
    for (const auto& p : t.partitions) {
      TopicPartition tp{t.name, p.partition_index};
      if (++named[tp] == 1) changes.push_back({tp, p.replicas});
    }
  }
  std::map<TopicPartition, PartitionAnswer> refused;
  std::erase_if(changes, [&](const ReassignmentChange& c) {
    if (named[c.tp] == 1) return false;
    refused[c.tp] = {ErrorCode::INVALID_REQUEST, "The partition is named more than once."};
    return true;
  });
  auto held = std::make_shared<RequestContext>(std::move(ctx));
  ControllerService* controller = held->services->controller;
  controller->AlterPartitionReassignments(
      std::move(changes), [held, refused](AlterReassignmentsOutcome outcome) {
        if (outcome.not_controller) {
          AlterPartitionReassignmentsResponse response;
          response.error_code = ToWire(ErrorCode::NOT_CONTROLLER);
          response.error_message = kNotControllerMessage;
          held->RecordError(response.error_code);
          held->Respond(response);
          return;
        }
        std::map<TopicPartition, PartitionAnswer> answers = refused;
        for (const auto& [tp, r] : outcome.partitions) {
          PartitionAnswer& a = answers[tp];
          a.error = ToErrorCode(r.error);
          if (r.error != ReassignmentError::kNone) {
            a.message = r.message.empty() ? ReassignmentErrorName(r.error) : r.message;
          }
        }
        AnswerAlter(*held, answers);
      });
}

void HandleListPartitionReassignments(RequestContext ctx,
                                      ListPartitionReassignmentsRequest request) {
  std::optional<std::vector<TopicPartition>> named;
  if (request.topics) {
    named.emplace();
    for (const auto& t : *request.topics) {
      for (int32_t p : t.partition_indexes) named->push_back({t.name, p});
    }
  }
  auto held = std::make_shared<RequestContext>(std::move(ctx));
  ControllerService* controller = held->services->controller;
  controller->ListPartitionReassignments(std::move(named), [held](ListReassignmentsOutcome outcome) {
    ListPartitionReassignmentsResponse response;
    if (outcome.not_controller) {
      response.error_code = ToWire(ErrorCode::NOT_CONTROLLER);
      response.error_message = kNotControllerMessage;
      held->RecordError(response.error_code);
      held->Respond(response);
      return;
    }
    for (const auto& [tp, r] : outcome.ongoing) {
      if (response.topics.empty() || response.topics.back().name != tp.topic) {
        response.topics.emplace_back().name = tp.topic;
      }
      auto& p = response.topics.back().partitions.emplace_back();
      p.partition_index = tp.partition;
      p.replicas = r.replicas;
      p.adding_replicas = r.adding;
      p.removing_replicas = r.removing;
    }
    held->Respond(response);
  });
}

}  // namespace sluice::api
