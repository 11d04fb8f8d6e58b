// The topic znodes any broker writes for CreateTopics, CreatePartitions and
// DeleteTopics in ZooKeeper mode.
//
// As in Kafka's ZooKeeper mode, a broker answering an admin request does not
// ask the controller: it writes the request into ZooKeeper and the
// controller, watching those paths, does the rest (partition states, leaders,
// requests to the replicas):
//
//   CreateTopics      /brokers/topics/<t> (assignment, a new topic id) and
//                     /config/topics/<t> (the overrides), in one transaction,
//                     so the controller never sees a topic without its config
//   CreatePartitions  /brokers/topics/<t> rewritten with the added partitions,
//                     conditional on the version read (read-modify-write,
//                     retried if another writer came between)
//   DeleteTopics      /admin/delete_topics/<t>
//   AlterConfigs,     /config/topics/<t> rewritten (read-modify-write, as
//   IncrementalAlter- for CreatePartitions) together with a sequential
//   Configs           /config/changes/config_change_<seq> notification,
//                     which every broker watches to re-read the config
//                     (broker/config_watcher.h)
//
// Checks that need no ZooKeeper (names, the broker's own policy, the request's
// own consistency) are the caller's. Every function is synchronous (a few
// ZooKeeper round trips): call it from a thread that may block, never a
// network shard.
//
// Errors are Status values whose code says which Kafka error to answer:
//   kAlreadyExists    TOPIC_ALREADY_EXISTS
//   kNotFound         UNKNOWN_TOPIC_OR_PARTITION
//   kAborted          INVALID_TOPIC_EXCEPTION ("queued for deletion")
//   kOutOfRange       INVALID_PARTITIONS
//   kInvalidArgument  INVALID_REPLICA_ASSIGNMENT for a client's assignment,
//                     INVALID_REPLICATION_FACTOR for one computed here
//   kIOError          ZooKeeper failed (the message says how); the request
//                     may or may not have been applied only where the
//                     function says so
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "controller/replica_assignment.h"
#include "controller/topic_id.h"
#include "zk/zk_client.h"

namespace sluice::controller {

// Creates the topic: its assignment (partitions 0..n-1, already checked) with
// `id`, and its config overrides (an empty map writes an empty config, as
// Kafka does). kAlreadyExists if /brokers/topics/<topic> exists (also while
// a deletion of it is pending). A /config/topics/<topic> left without a topic
// is overwritten. kIOError with a lost connection: the transaction may have
// landed (the topic then exists with `id`, which a caller can read back).
Status CreateTopicZnodes(zk::ZkClient& zk, const std::string& topic,
                         const ReplicaAssignment& assignment,
                         const std::map<std::string, std::string>& config, const TopicUuid& id);

struct AddPartitionsResult {
  ReplicaAssignment added;  // only the new partitions
  int32_t assignment_version = -1;  // /brokers/topics/<topic>'s version after the write
};

// Grows `topic` to `total_partitions`. The new partitions' replicas are
// `explicit_assignment` if given (partitions numbered from the current count,
// the topic's replication factor, live brokers only; see
// ValidateExplicitAssignment), otherwise AssignAddedPartitions over
// `live_brokers`. With `validate_only` nothing is written (the answer is what
// would have been). kNotFound: no such topic; kAborted: its deletion is
// pending; kOutOfRange: not an increase. A concurrent writer of the
// assignment (kBadVersion) makes it read and decide again, up to 5 times.
Result<AddPartitionsResult> AddPartitions(
    zk::ZkClient& zk, const std::string& topic, int32_t total_partitions,
    const std::vector<BrokerPlacement>& live_brokers,
    const std::optional<ReplicaAssignment>& explicit_assignment, bool validate_only = false);

// Marks `topic` for deletion; the controller deletes it. kNotFound: no such
// topic. A deletion already pending is not an error.
Status RequestTopicDeletion(zk::ZkClient& zk, const std::string& topic);

// Rewrites `topic`'s overrides: `edit` turns the current ones (none if
// /config/topics/<topic> is missing) into the new ones, or refuses (its
// error is returned as is). The result replaces the node's map, conditional
// on the version read, in one transaction with a change notification naming
// the topic. A concurrent writer (kBadVersion, or the node created
// meanwhile) makes it read and edit again, up to 5 times, so `edit` must be
// repeatable. With `validate_only` nothing is written. Returns the overrides
// written (or that would have been). kNotFound: no such topic; kIOError with
// a lost connection: the change may have landed.
Result<std::map<std::string, std::string>> ChangeTopicConfig(
    zk::ZkClient& zk, const std::string& topic,
    const std::function<Status(std::map<std::string, std::string>&)>& edit, bool validate_only);

}  // namespace sluice::controller
