// Partition reassignment (KIP-455, Kafka's ZooKeeper-mode rules), as pure
// functions of a partition's replicas, the reassignment in progress and its
// state. The state machine writes what these decide
// (PartitionStateMachine::Reassign and its completion check).
//
// Vocabulary, for one partition:
//   ORS  the replicas before the reassignment (its "original" replicas)
//   TRS  the target replicas
//   RS   the replicas while it runs: TRS first, then the ORS members not in
//        TRS (so the preferred leader is already TRS's first)
//   adding = TRS - ORS, removing = RS - TRS
// RS, adding and removing are stored in /brokers/topics/<t> (the
// "partitions", "adding_replicas" and "removing_replicas" maps), so a new
// controller resumes what an old one started.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "zk/znodes.h"

namespace sluice::controller {

// One partition's replicas and the reassignment in progress, as stored.
struct ReplicaSet {
  std::vector<int32_t> replicas;  // RS (ORS when nothing is in progress)
  std::vector<int32_t> adding;
  std::vector<int32_t> removing;
  bool operator==(const ReplicaSet&) const = default;
};

// Whether a reassignment is in progress (something is being added or removed).
bool InProgress(const ReplicaSet& r);
// ORS: the replicas not being added, in RS order.
std::vector<int32_t> OriginalReplicas(const ReplicaSet& r);
// TRS: the replicas not being removed, in RS order (the target's order).
std::vector<int32_t> TargetReplicas(const ReplicaSet& r);

// Kafka's errors for one partition of AlterPartitionReassignments.
enum class ReassignmentError {
  kNone,
  kNotController,              // NOT_CONTROLLER: inactive or deposed
  kUnknownTopicOrPartition,    // UNKNOWN_TOPIC_OR_PARTITION
  kInvalidReplicaAssignment,   // INVALID_REPLICA_ASSIGNMENT
  kNoReassignmentInProgress,   // NO_REASSIGNMENT_IN_PROGRESS: cancelling nothing
  kWriteFailed,                // UNKNOWN_SERVER_ERROR: ZooKeeper failed
};
const char* ReassignmentErrorName(ReassignmentError e);

// Checks a requested target: not empty, no broker twice, no negative id,
// every broker registered (in `live`). kNone or kInvalidReplicaAssignment,
// with the reason in *why.
ReassignmentError ValidateTarget(const std::vector<int32_t>& target, const std::set<int32_t>& live,
                                 std::string* why);

// The stored replica set that starts a reassignment of `current` to
// `target` (already validated). RS := target, then every current replica
// not in it, in current order (a replica still being added by an earlier
// reassignment that the new target drops stays until the end, so it is
// stopped and deleted with the others); adding := target - ORS; removing :=
// RS - target. Cancelling is reassigning to OriginalReplicas(current).
// Equal to `current` when nothing changes (a target equal to the replicas:
// a no-op).
ReplicaSet PlanReassignment(const ReplicaSet& current, const std::vector<int32_t>& target);

// The state that completes a reassignment to `target` once every target
// replica is in the ISR, or nullopt while one is not (or no target replica
// can lead yet). The ISR keeps only target replicas (in ISR order); if the
// leader is not a target replica or not in `electable` (live, not shutting
// down), the first target replica that is electable and in the ISR leads.
// Leader epoch + 1 either way: the replicas apply only a newer leader
// epoch, and they must learn the new replica set. Carries
// `controller_epoch`.
std::optional<zk::PartitionState> DecideReassignmentCompletion(const std::vector<int32_t>& target,
                                                               const zk::PartitionState& current,
                                                               const std::set<int32_t>& electable,
                                                               int32_t controller_epoch);

}  // namespace sluice::controller
