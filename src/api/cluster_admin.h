// ClusterAdmin: CreateTopics, CreatePartitions, DeleteTopics and topic
// configs (AlterConfigs, IncrementalAlterConfigs, DescribeConfigs) for a
// broker in a ZooKeeper cluster; Metadata's auto-creation uses CreateTopic.
//
// A single node has none (BrokerServices::cluster_admin is null) and its
// handlers change its own PartitionManager. A broker with zookeeper.connect
// answers them as Kafka's ZooKeeper-mode brokers do, whichever broker
// receives them: it validates the request against the cluster (the live
// brokers and their racks, the topics in ZooKeeper) and writes the topic's
// znodes; the controller, watching them, elects the leaders and tells the
// replicas. An answer therefore means "written to ZooKeeper", not "leaders
// elected" (Kafka waits for its metadata cache up to the request's
// timeout_ms; this broker has no such cache yet).
//
// The handlers keep the request-level checks (duplicate topics in one
// request, an assignment together with explicit counts, delete.topic.enable);
// everything that depends on the cluster is here.
//
// Threads: every call blocks on ZooKeeper round trips. Call from a thread
// that may block (the metadata thread, api/handlers/metadata_task.h), never
// a network shard. Implementations are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <functional>

#include "controller/partition_state_machine.h"
#include "protocol/error_code.h"

namespace sluice::api {

// partition -> broker ids, the preferred leader first.
using PartitionAssignment = std::map<int32_t, std::vector<int32_t>>;

// A Kafka error code and the message for the client (NONE: success).
struct AdminOutcome {
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
  std::string message;
  bool ok() const { return error == protocol::ErrorCode::NONE; }
};

struct NewTopic {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions (or the assignment's count)
  int16_t replication_factor = -1;  // -1: default.replication.factor (or the assignment's)
  // A client's assignment, partitions numbered from 0. With it, partitions
  // and replication_factor must be -1 (the handler checks that).
  std::optional<PartitionAssignment> assignment;
  std::map<std::string, std::string> configs;  // topic overrides
  bool validate_only = false;
};

struct CreatedTopic : AdminOutcome {
  std::array<uint8_t, 16> topic_id{};  // zero when validate_only
  int32_t partitions = -1;
  int16_t replication_factor = -1;
};

struct DeletedTopic : AdminOutcome {
  std::array<uint8_t, 16> topic_id{};  // zero when unknown
};

struct TopicConfigs : AdminOutcome {
  std::map<std::string, std::string> overrides;
};

// Turns a topic's current overrides into the new ones, or refuses (not ok()).
using TopicConfigEdit = std::function<AdminOutcome(std::map<std::string, std::string>& overrides)>;

class ClusterAdmin {
 public:
  virtual ~ClusterAdmin() = default;

  // Errors: INVALID_TOPIC_EXCEPTION (the name, or it collides with a topic
  // in metric names, or the topic is being deleted), INVALID_PARTITIONS,
  // INVALID_REPLICATION_FACTOR (more than the live brokers, or racks on only
  // some), INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, POLICY_VIOLATION
  // (sluice.broker.max.partitions), TOPIC_ALREADY_EXISTS,
  // UNKNOWN_SERVER_ERROR (ZooKeeper failed or the broker is leaving).
  virtual CreatedTopic CreateTopic(const NewTopic& topic) = 0;

  // Raises `name`'s partition count to `total`. `assignment`: one replica
  // list per new partition, in partition order. Errors:
  // UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (not an increase),
  // INVALID_TOPIC_EXCEPTION (an internal topic, or being deleted),
  // INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR,
  // POLICY_VIOLATION, UNKNOWN_SERVER_ERROR.
  virtual AdminOutcome CreatePartitions(const std::string& name, int32_t total,
                                        const std::optional<std::vector<std::vector<int32_t>>>& assignment,
                                        bool validate_only) = 0;

  // Marks `name` for deletion (the controller deletes it). Errors:
  // UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION (an internal topic),
  // UNKNOWN_SERVER_ERROR.
  virtual DeletedTopic DeleteTopic(const std::string& name) = 0;

  // Rewrites `name`'s overrides in ZooKeeper, where every broker hosting
  // its partitions picks them up (a config change notification). `edit`
  // makes the new overrides from the current ones and does every check of
  // the values (its refusal is returned as is); it may run more than once
  // when another writer comes between. With `validate_only` nothing is
  // written. Errors: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_SERVER_ERROR
  // (ZooKeeper failed: the change may or may not have been made), or edit's.
  virtual AdminOutcome AlterTopicConfig(const std::string& name, const TopicConfigEdit& edit,
                                        bool validate_only) = 0;

  // `name`'s overrides as ZooKeeper holds them (the cluster's state, which
  // DescribeConfigs answers from). Errors: UNKNOWN_TOPIC_OR_PARTITION,
  // UNKNOWN_SERVER_ERROR.
  virtual TopicConfigs DescribeTopicConfig(const std::string& name) = 0;

  // The same for a broker's dynamic configs: `entity` is a broker id, or
  // "<default>" (every broker's defaults). The brokers it names apply the
  // change (a config change notification). Errors: UNKNOWN_SERVER_ERROR, or
  // edit's.
  virtual AdminOutcome AlterBrokerConfig(const std::string& entity, const TopicConfigEdit& edit,
                                         bool validate_only) = 0;
  virtual TopicConfigs DescribeBrokerConfig(const std::string& entity) = 0;
};

// ElectLeaders' election types (KIP-460), as on the wire.
enum class ElectionType : int8_t { kPreferred = 0, kUnclean = 1 };

struct ElectLeadersOutcome {
  bool not_controller = false;  // NOT_CONTROLLER: nothing was elected
  std::map<controller::TopicPartition, controller::ElectionError> partitions;
};

// One partition of AlterPartitionReassignments: the new replicas, or
// nullopt to cancel the reassignment in progress.
struct ReassignmentChange {
  controller::TopicPartition tp;
  std::optional<std::vector<int32_t>> target;
};

struct ReassignmentResult {
  controller::ReassignmentError error = controller::ReassignmentError::kNone;
  std::string message;  // why, on an error
};

struct AlterReassignmentsOutcome {
  bool not_controller = false;  // NOT_CONTROLLER: nothing was changed
  std::map<controller::TopicPartition, ReassignmentResult> partitions;
};

// A reassignment in progress (ListPartitionReassignments).
struct OngoingReassignment {
  std::vector<int32_t> replicas;  // RS
  std::vector<int32_t> adding;
  std::vector<int32_t> removing;
};

struct ListReassignmentsOutcome {
  bool not_controller = false;
  std::map<controller::TopicPartition, OngoingReassignment> ongoing;
};

// What only the controller serves: a partition leader's AlterPartition
// (KIP-497), an admin's ElectLeaders and partition reassignments (KIP-455),
// and a stopping broker's ControlledShutdown. A broker that is not the controller answers
// NOT_CONTROLLER, and the sender asks again once it knows the new one.
class ControllerService {
 public:
  virtual ~ControllerService() = default;
  // Calls `done` once, from the controller's thread, with one result per
  // change, in order. Never blocks the caller.
  virtual void AlterPartition(
      std::vector<controller::AlterPartitionRequest> changes,
      std::function<void(std::vector<controller::AlterPartitionResult>)> done) = 0;

  // ElectLeaders (KIP-460): a preferred or an unclean election for
  // `partitions` (nullopt: every partition that has a leader and ISR
  // state). Calls `done` once, from the controller's thread, when the new
  // states are written and the brokers' requests queued; not_controller
  // (and no partitions) when this broker is not the active controller.
  // Never blocks the caller.
  virtual void ElectLeaders(ElectionType type,
                            std::optional<std::vector<controller::TopicPartition>> partitions,
                            std::function<void(ElectLeadersOutcome)> done) = 0;
  // AlterPartitionReassignments (KIP-455): starts, changes or cancels the
  // reassignment of each partition in `changes`
  // (controller::PartitionStateMachine::Reassign), in order. Calls `done`
  // once, from the controller's thread, when the replica sets are written
  // and the brokers' requests queued (the data moves afterwards);
  // not_controller when this broker is not the active controller. Never
  // blocks the caller.
  virtual void AlterPartitionReassignments(std::vector<ReassignmentChange> changes,
                                           std::function<void(AlterReassignmentsOutcome)> done) = 0;
  // ListPartitionReassignments (KIP-455): the reassignments in progress
  // among `partitions` (nullopt: every partition; one named that does not
  // exist or is not being reassigned is left out). Calls `done` once, from
  // the controller's thread. Never blocks the caller.
  virtual void ListPartitionReassignments(
      std::optional<std::vector<controller::TopicPartition>> partitions,
      std::function<void(ListReassignmentsOutcome)> done) = 0;
  // Broker `broker_id` is stopping: moves its leaderships away
  // (controller::PartitionStateMachine::ControlledShutdown). Calls `done`
  // once, from the controller's thread. Never blocks the caller.
  virtual void ControlledShutdown(
      int32_t broker_id, std::function<void(controller::ControlledShutdownResult)> done) = 0;
};

}  // namespace sluice::api
