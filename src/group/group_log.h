// GroupLog: the coordinator's durable state, kept (as in Kafka) in the
// internal, compacted topic `__consumer_offsets`. Each group's records go
// to one partition (OffsetsPartitionFor), so one group's history is in log
// order; a commit is answered only once its batch is durable (the flusher's
// group commit), like a produce with acks=all.
//
// Thread-safe (the partitions are). On a single node the topic is created on
// first use, with offsets.topic.num.partitions partitions and
// cleanup.policy=compact. In a cluster (SetClusterPartitionCount) the topic
// is a replicated cluster topic, created through the cluster's admin by
// FindCoordinator: this log only writes to and replays the partitions
// hosted here, and a write is answered once the partition's ISR has it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cluster/partition_manager.h"
#include "config/broker_config.h"
#include "base/mutex.h"

namespace sluice::group {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

struct KeyValue {
  std::vector<uint8_t> key;
  std::optional<std::vector<uint8_t>> value;  // nullopt: tombstone.
};

// One appended batch, to wait on.
struct GroupLogWrite {
  std::shared_ptr<cluster::Partition> partition;
  int64_t base_offset = -1;
  int64_t end_offset = -1;  // One past the last record.
};

class GroupLog {
 public:
  GroupLog(cluster::PartitionManager& partitions, const config::BrokerConfig& config);

  // Makes this the log of a broker in a cluster: `partition_count` says the
  // topic's partition count as the cluster knows it (the configured count
  // while the topic is unknown). Call before any other method.
  void SetClusterPartitionCount(std::function<int32_t()> partition_count) {
    cluster_partition_count_ = std::move(partition_count);
  }
  bool in_cluster() const { return static_cast<bool>(cluster_partition_count_); }

  // Creates the topic if it does not exist yet. Cheap once it does. In a
  // cluster it does nothing (FindCoordinator creates the cluster topic).
  Status EnsureTopic();
  bool TopicExists() const;
  // The partition count of the existing topic (or the configured count).
  int32_t partition_count() const;

  // Appends `records` as one batch to `group`'s partition (NotLeader in a
  // cluster when this broker does not lead it). Never calls
  // back; wait for durability with WhenDurable (outside any caller lock:
  // `done` may run inline when the broker is stopping).
  Result<GroupLogWrite> Append(std::string_view group, const std::vector<KeyValue>& records,
                               int64_t now_ms);
  void WhenDurable(const GroupLogWrite& write, std::function<void(Status)> done);

  // Calls `visit` with every record of every partition, each partition in
  // log order. Stops at the first error (a corrupt record is reported).
  using Visitor = std::function<Status(int64_t offset, std::span<const uint8_t> key,
                                       std::optional<std::span<const uint8_t>> value)>;
  Status Replay(const Visitor& visit);
  // The same for partition `index` alone (NotFound if it is not hosted here).
  Status ReplayPartition(int32_t index, const Visitor& visit);

 private:
  Status ReplayPartition(cluster::Partition& partition, const Visitor& visit);

  std::function<int32_t()> cluster_partition_count_;  // set: in a cluster
  cluster::PartitionManager& partitions_;
  const config::BrokerConfig& config_;
  Mutex create_mu_;
  std::atomic<bool> exists_{false};
};

}  // namespace sluice::group
