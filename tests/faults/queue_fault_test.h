// QueueFaultTest: the shape every fault test shares. A cluster of three
// brokers holds a topic of kPartitions partitions (replication factor 3,
// min.insync.replicas=2) that a QueueWorkload writes and reads while the
// test breaks something; PartitionStateHistory watches the leader epochs.
// Heal() waits for the cluster to heal and judges the run:
//   1. every partition back to a leader and a full ISR;
//   2. writes acknowledged again after healing;
//   3. the producer stopped with every write answered, and the group
//      consumer received every acknowledged value;
//   4. the final log read through the brokers passes CheckQueue;
//   5. no leader epoch had two leaders (CheckLeaderEpochs);
//   6. the brokers stop cleanly (exit 0), and their logs are identical below
//      the high watermark (CompareReplicaLogs).
// It prints one line per check, the first naming the faults injected.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/cluster_fixture.h"
#include "support/partition_state_history.h"
#include "support/queue_workload.h"

namespace sluice::testing {

class QueueFaultTest : public ::testing::Test {
 protected:
  static constexpr char kTopic[] = "queue";
  static constexpr int kPartitions = 3;

  // Starts `cluster_` (made and configured by the test, or a default one),
  // creates the topic, waits until it is fully replicated, and starts the
  // history and the workload; returns once writes are acknowledged and the
  // group consumer has received some.
  void StartCluster();
  // Waits until `n` more writes are acknowledged than when called.
  bool WaitForProgress(int64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until every partition has a leader other than `broker`.
  bool WaitForLeadersOtherThan(int32_t broker,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The judgement above; `faults` describes what the test injected.
  void Heal(const std::string& faults);
  // Clients first, then the brokers and ZooKeeper: a test that made the
  // cluster's environment (a namespace, a mount) removes it after this.
  void TearDown() override;

  std::unique_ptr<BrokerCluster> cluster_;
  // Set before StartCluster to change the defaults: the topic's replicas
  // (empty: the controller spreads them) and the workload.
  std::vector<std::vector<int32_t>> assignment_;
  QueueWorkloadOptions workload_options_{.topic = kTopic, .partitions = kPartitions};
  std::unique_ptr<PartitionStateHistory> states_;
  std::unique_ptr<QueueWorkload> workload_;
};

}  // namespace sluice::testing
