// CreatePartitions: raise topics' partition counts to a new total. On a
// single node the only valid manual assignment puts each new partition on
// this broker alone; anything else is INVALID_REPLICA_ASSIGNMENT, as Kafka
// answers for an assignment it cannot satisfy (replica_assignment.h). In a
// ZooKeeper cluster (BrokerServices::cluster_admin) the new partitions are
// written there instead (cluster_admin.h), and the answer waits for their
// leaders (await_leaders.h).
#include <map>
#include <string>

#include <fmt/format.h>

#include "api/handlers/await_leaders.h"
#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "api/handlers/partition_limit.h"
#include "api/handlers/replica_assignment.h"
#include "cluster/topic_name.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

// A manual assignment for `added` new partitions of a topic with replication
// factor `rf`: one replica list per new partition, each valid (Kafka's
// controller, createPartitions).
std::optional<AssignmentProblem> CheckAssignments(
    const std::vector<protocol::CreatePartitionsRequest::CreatePartitionsAssignment>& assignments,
    int32_t added, int16_t rf, int32_t broker_id) {
  if (static_cast<int64_t>(assignments.size()) != added) {
    return AssignmentProblem{
        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
        fmt::format("Attempted to add {} additional partition(s), but only {} assignment(s) were "
                    "specified.",
                    added, assignments.size())};
  }
  for (const auto& a : assignments) {
    if (auto problem = CheckReplicaList(a.broker_ids, static_cast<size_t>(rf), broker_id)) {
      return problem;
    }
  }
  return std::nullopt;
}

void CreatePartitionsNow(RequestContext& ctx, const protocol::CreatePartitionsRequest& request) {
  BrokerServices& services = *ctx.services;
  protocol::CreatePartitionsResponse response;
  std::map<std::string, int32_t> grown;  // in a cluster: topic -> its new count
  std::map<std::string, int> seen;
  for (const auto& t : request.topics) ++seen[t.name];

  for (const auto& t : request.topics) {
    auto& r = response.results.emplace_back();
    r.name = t.name;
    r.error_message = std::nullopt;
    auto fail = [&r](ErrorCode code, std::string message) {
      r.error_code = ToWire(code);
      r.error_message = std::move(message);
    };
    if (seen[t.name] > 1) {
      fail(ErrorCode::INVALID_REQUEST, "Duplicate topic in request.");
      continue;
    }
    if (services.cluster_admin != nullptr) {
      std::optional<std::vector<std::vector<int32_t>>> assignment;
      if (t.assignments) {
        assignment.emplace();
        for (const auto& a : *t.assignments) assignment->push_back(a.broker_ids);
      }
      AdminOutcome added = services.cluster_admin->CreatePartitions(t.name, t.count, assignment,
                                                                    request.validate_only);
      if (!added.ok()) {
        fail(added.error, std::move(added.message));
      } else if (!request.validate_only) {
        grown[t.name] = t.count;
      }
      continue;
    }
    auto info = services.partitions.FindTopic(t.name);
    if (!info) {
      fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, fmt::format("The topic '{}' does not exist.", t.name));
      continue;
    }
    if (t.count == info->partition_count) {
      fail(ErrorCode::INVALID_PARTITIONS,
           fmt::format("Topic already has {} partitions.", info->partition_count));
      continue;
    }
    if (t.count < info->partition_count) {
      fail(ErrorCode::INVALID_PARTITIONS,
           fmt::format("Topic currently has {} partitions, which is higher than the requested {}.",
                       info->partition_count, t.count));
      continue;
    }
    if (cluster::IsInternalTopic(t.name)) {
      // Kafka's broker would add them, but the group coordinator maps each
      // group to a partition by the partition count: a new count strands
      // every group's committed offsets. Refused with the code Kafka's broker
      // gives for client operations it refuses on internal topics.
      fail(ErrorCode::INVALID_TOPIC_EXCEPTION,
           fmt::format("The partition count of internal topic {} cannot be changed.", t.name));
      continue;
    }
    if (t.assignments) {
      if (auto problem = CheckAssignments(*t.assignments, t.count - info->partition_count,
                                          info->replication_factor, services.broker_id)) {
        fail(problem->code, problem->message);
        continue;
      }
    }
    Status s = services.partitions.CreatePartitions(t.name, t.count, request.validate_only);
    if (s.IsNotFound()) {
      fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, fmt::format("The topic '{}' does not exist.", t.name));
    } else if (s.code() == StatusCode::kOutOfRange) {
      fail(PartitionLimitError(), s.message());
    } else if (s.code() == StatusCode::kInvalidArgument) {
      fail(ErrorCode::INVALID_PARTITIONS, s.message());  // Raced with another request, or too many.
    } else if (!s.ok()) {
      fail(ErrorCode::UNKNOWN_SERVER_ERROR, s.message());
    }
  }
  // In a cluster, answered once the controller has given every new
  // partition a leader (await_leaders.h).
  RespondWhenLed(std::move(ctx), std::move(response), &protocol::CreatePartitionsResponse::results,
                 std::move(grown), request.timeout_ms);
}

}  // namespace

// Creates logs (disk I/O), or writes ZooKeeper in a cluster: runs on the
// metadata thread (metadata_task.h).
void HandleCreatePartitions(RequestContext ctx, protocol::CreatePartitionsRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &CreatePartitionsNow);
}

}  // namespace sluice::api
