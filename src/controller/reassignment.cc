#include "controller/reassignment.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace sluice::controller {
namespace {

bool Contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// `from`'s members that are (keep = true) or are not in `set`, in `from`'s order.
std::vector<int32_t> Filter(const std::vector<int32_t>& from, const std::vector<int32_t>& set,
                            bool keep) {
  std::vector<int32_t> out;
  for (int32_t x : from) {
    if (Contains(set, x) == keep) out.push_back(x);
  }
  return out;
}

}  // namespace

bool InProgress(const ReplicaSet& r) { return !r.adding.empty() || !r.removing.empty(); }

std::vector<int32_t> OriginalReplicas(const ReplicaSet& r) {
  return Filter(r.replicas, r.adding, false);
}

std::vector<int32_t> TargetReplicas(const ReplicaSet& r) {
  return Filter(r.replicas, r.removing, false);
}

const char* ReassignmentErrorName(ReassignmentError e) {
  switch (e) {
    case ReassignmentError::kNone: return "NONE";
    case ReassignmentError::kNotController: return "NOT_CONTROLLER";
    case ReassignmentError::kUnknownTopicOrPartition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case ReassignmentError::kInvalidReplicaAssignment: return "INVALID_REPLICA_ASSIGNMENT";
    case ReassignmentError::kNoReassignmentInProgress: return "NO_REASSIGNMENT_IN_PROGRESS";
    case ReassignmentError::kWriteFailed: return "UNKNOWN_SERVER_ERROR";
  }
  return "?";
}

ReassignmentError ValidateTarget(const std::vector<int32_t>& target, const std::set<int32_t>& live,
                                 std::string* why) {
  if (target.empty()) {
    *why = "The replica list is empty.";
    return ReassignmentError::kInvalidReplicaAssignment;
  }
  std::set<int32_t> seen;
  for (int32_t b : target) {
    if (b < 0) {
      *why = fmt::format("Broker id {} is negative.", b);
      return ReassignmentError::kInvalidReplicaAssignment;
    }
    if (!seen.insert(b).second) {
      *why = fmt::format("Broker {} is named twice.", b);
      return ReassignmentError::kInvalidReplicaAssignment;
    }
    if (!live.contains(b)) {
      *why = fmt::format("Broker {} is not registered.", b);
      return ReassignmentError::kInvalidReplicaAssignment;
    }
  }
  return ReassignmentError::kNone;
}

ReplicaSet PlanReassignment(const ReplicaSet& current, const std::vector<int32_t>& target) {
  const std::vector<int32_t> original = OriginalReplicas(current);
  ReplicaSet next;
  next.replicas = target;
  for (int32_t r : current.replicas) {
    if (!Contains(next.replicas, r)) next.replicas.push_back(r);
  }
  next.adding = Filter(target, original, false);
  next.removing = Filter(next.replicas, target, false);
  return next;
}

std::optional<zk::PartitionState> DecideReassignmentCompletion(const std::vector<int32_t>& target,
                                                               const zk::PartitionState& current,
                                                               const std::set<int32_t>& electable,
                                                               int32_t controller_epoch) {
  for (int32_t r : target) {
    if (!Contains(current.isr, r)) return std::nullopt;
  }
  zk::PartitionState next = current;
  next.isr = Filter(current.isr, target, true);
  if (!Contains(target, current.leader) || !electable.contains(current.leader)) {
    auto leader = std::find_if(target.begin(), target.end(), [&](int32_t r) {
      return electable.contains(r) && Contains(next.isr, r);
    });
    if (leader == target.end()) return std::nullopt;
    next.leader = *leader;
  }
  ++next.leader_epoch;
  next.controller_epoch = controller_epoch;
  return next;
}

}  // namespace sluice::controller
