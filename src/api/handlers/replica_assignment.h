// Kafka's checks of a manual replica assignment (the `assignments` of
// CreateTopics and CreatePartitions), with the codes and messages of its
// KRaft controller (ReplicationControlManager.validateManualPartitionAssignment
// and createTopic). On this single node the only live broker is this one, so
// a valid assignment lists exactly `broker_id` for every partition. Pure
// functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/error_code.h"
#include "protocol/generated/create_topics.h"

namespace sluice::api {

struct AssignmentProblem {
  protocol::ErrorCode code;
  std::string message;
};

// One partition's replica list: not empty, only live brokers, none twice,
// and as many replicas as the topic's other partitions have
// (`replication_factor`, when known).
std::optional<AssignmentProblem> CheckReplicaList(std::span<const int32_t> replicas,
                                                  std::optional<size_t> replication_factor,
                                                  int32_t broker_id);

// A new topic's assignment: CheckReplicaList for each partition in request
// order, each partition index once, and the indexes exactly 0..n-1. On
// success returns nothing and sets *partitions and *replication_factor.
// REQUIRES: !assignments.empty().
std::optional<AssignmentProblem> CheckTopicAssignment(
    const std::vector<protocol::CreateTopicsRequest::CreatableReplicaAssignment>& assignments,
    int32_t broker_id, int32_t* partitions, int16_t* replication_factor);

}  // namespace sluice::api
