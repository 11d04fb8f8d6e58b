// ControllerChannel: how the controller's decisions reach the brokers.
//
// The partition state machine decides and writes ZooKeeper; what the brokers
// must hear of it goes through this interface as Kafka's three controller
// requests (LeaderAndIsr, UpdateMetadata, StopReplica), in plain structs so
// that the controller depends on no wire format. Its implementation keeps one
// connection and queue per broker, sends in the order it is called, and
// retries a broker until it answers or leaves the live set.
//
// Threads: called on the controller's EventLoop; an implementation must not
// block there (queue and return) and must not call back into the state
// machine from the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/topic_id.h"
#include "zk/znodes.h"

namespace sluice::controller {

// The leader of a partition whose topic is being deleted, in UpdateMetadata
// (Kafka's LeaderDuringDelete): brokers drop it from their metadata.
inline constexpr int32_t kLeaderDuringDelete = -2;
// The leader epoch StopReplica carries when the partition is deleted (Kafka's
// EpochDuringDelete): it stops the replica whatever its epoch.
inline constexpr int32_t kEpochDuringDelete = -2;

// One partition's state as the controller last wrote it.
struct PartitionLeaderInfo {
  std::string topic;
  TopicUuid topic_id = kNoTopicUuid;
  int32_t partition = 0;
  int32_t controller_epoch = 0;  // of the controller that wrote the state
  int32_t leader = -1;           // -1: no leader; kLeaderDuringDelete
  int32_t leader_epoch = 0;
  std::vector<int32_t> isr;
  int32_t partition_epoch = 0;  // the state znode's version (Kafka's zkVersion)
  std::vector<int32_t> replicas;  // the assignment, preferred leader first
  // UpdateMetadata only: replicas on brokers that are not live.
  std::vector<int32_t> offline_replicas;
  // LeaderAndIsr only: the partition was just created (the broker creates
  // its log instead of treating a missing one as a lost disk).
  bool is_new = false;
};

struct LeaderAndIsrRequest {
  int32_t controller_id = -1;
  int32_t controller_epoch = 0;
  // Every partition the broker replicates (sent when the broker starts or a
  // controller takes over): a log on its disk for a partition not listed is
  // stray (its topic was deleted while the broker was away). Otherwise
  // incremental.
  bool full = false;
  std::vector<PartitionLeaderInfo> partitions;
  // The live brokers leading those partitions, so a follower can reach them.
  std::vector<zk::BrokerRegistration> live_leaders;
};

struct UpdateMetadataRequest {
  int32_t controller_id = -1;
  int32_t controller_epoch = 0;
  std::vector<zk::BrokerRegistration> live_brokers;  // all of them, always
  std::vector<PartitionLeaderInfo> partitions;       // those that changed
};

struct StopReplicaPartition {
  std::string topic;
  int32_t partition = 0;
  int32_t leader_epoch = 0;  // kEpochDuringDelete when deleting
  bool delete_partition = false;
};

struct StopReplicaRequest {
  int32_t controller_id = -1;
  int32_t controller_epoch = 0;
  std::vector<StopReplicaPartition> partitions;
};

class ControllerChannel {
 public:
  virtual ~ControllerChannel() = default;
  virtual void SendLeaderAndIsr(int32_t broker_id, LeaderAndIsrRequest request) = 0;
  // One request for several brokers (they all get the same).
  virtual void SendUpdateMetadata(std::vector<int32_t> broker_ids,
                                  UpdateMetadataRequest request) = 0;
  virtual void SendStopReplica(int32_t broker_id, StopReplicaRequest request) = 0;
};

}  // namespace sluice::controller
