#include "api/handlers/replica_assignment.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace sluice::api {

using protocol::ErrorCode;

std::optional<AssignmentProblem> CheckReplicaList(std::span<const int32_t> replicas,
                                                  std::optional<size_t> replication_factor,
                                                  int32_t broker_id) {
  if (replicas.empty()) {
    return AssignmentProblem{ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                             "The manual partition assignment includes an empty replica list."};
  }
  // Kafka walks the ids in ascending order, so the first problem it names is
  // the smallest id's.
  std::vector<int32_t> sorted(replicas.begin(), replicas.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != broker_id) {
      return AssignmentProblem{
          ErrorCode::INVALID_REPLICA_ASSIGNMENT,
          fmt::format("The manual partition assignment includes broker {}, but no such broker is "
                      "registered.",
                      sorted[i])};
    }
    if (i > 0 && sorted[i] == sorted[i - 1]) {
      return AssignmentProblem{
          ErrorCode::INVALID_REPLICA_ASSIGNMENT,
          fmt::format("The manual partition assignment includes the broker {} more than once.",
                      sorted[i])};
    }
  }
  if (replication_factor && sorted.size() != *replication_factor) {
    return AssignmentProblem{
        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
        fmt::format("The manual partition assignment includes a partition with {} replica(s), but "
                    "this is not consistent with previous partitions, which have {} replica(s).",
                    sorted.size(), *replication_factor)};
  }
  return std::nullopt;
}

std::optional<AssignmentProblem> CheckTopicAssignment(
    const std::vector<protocol::CreateTopicsRequest::CreatableReplicaAssignment>& assignments,
    int32_t broker_id, int32_t* partitions, int16_t* replication_factor) {
  std::set<int32_t> seen;
  std::optional<size_t> rf;
  for (const auto& a : assignments) {
    if (!seen.insert(a.partition_index).second) {
      return AssignmentProblem{
          ErrorCode::INVALID_REPLICA_ASSIGNMENT,
          fmt::format("Found multiple manual partition assignments for partition {}",
                      a.partition_index)};
    }
    if (auto problem = CheckReplicaList(a.broker_ids, rf, broker_id)) return problem;
    rf = a.broker_ids.size();
  }
  // Distinct indexes, as many as partitions: 0..n-1 exactly when the
  // smallest is 0 and the largest n-1.
  if (*seen.begin() != 0 || *seen.rbegin() != static_cast<int64_t>(seen.size()) - 1) {
    return AssignmentProblem{ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                             "partitions should be a consecutive 0-based integer sequence"};
  }
  *partitions = static_cast<int32_t>(seen.size());
  // At most one distinct live broker here, so the factor is 1.
  *replication_factor = static_cast<int16_t>(*rf);
  return std::nullopt;
}

}  // namespace sluice::api
