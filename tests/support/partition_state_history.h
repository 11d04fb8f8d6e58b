// PartitionStateHistory: every version of a topic's partition state znodes
// (/brokers/topics/<topic>/partitions/<p>/state) seen while a fault test
// runs, to check that no leader epoch ever had two leaders.
//
// A thread polls each partition's state every 20 ms through a reader the
// owner gives (BrokerCluster::VersionedState: the test's one ZooKeeper
// session, a long one that outlives a quorum outage) and records each new
// znode version. The controller writes a state with a
// conditional set, so versions are consecutive; a version written and
// overwritten between two polls is not seen, and CheckLeaderEpochs says how
// many were missed (a watch would miss them just the same: it fires once
// and the node may change again before it is read back).
//
//   PartitionStateHistory states(partitions, [&](int32_t p) {
//     return cluster.VersionedState(topic, p);
//   });
//   states.Start();
//   ... faults ...
//   states.Stop();
//   EpochCheck e = states.Check();
//   EXPECT_TRUE(e.problems.empty()) << ...;
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "zk/znodes.h"

namespace sluice::testing {

struct EpochCheck {
  int64_t versions_seen = 0;    // state versions recorded, all partitions
  int64_t versions_missed = 0;  // gaps in the version sequence
  int64_t leader_changes = 0;   // consecutive seen versions with different leaders
  std::vector<std::string> problems;
  std::string Summary() const;
};

// partition -> znode version -> the state at that version.
using StateVersions = std::map<int32_t, std::map<int32_t, zk::PartitionState>>;

// The checks of PartitionStateHistory::Check on any recorded history: for
// each partition, each leader epoch maps to one leader (-1, offline, counts
// as a leader: a change to or from it must come with a new epoch); leader
// epochs never go down as the version grows; and a leader is in the ISR of
// its own state.
EpochCheck CheckLeaderEpochs(const StateVersions& seen);

class PartitionStateHistory {
 public:
  // A partition's state and its znode version; nullopt if unreadable now.
  using Reader =
      std::function<std::optional<std::pair<zk::PartitionState, int32_t>>(int32_t partition)>;
  // `read` is called from the history's thread; it must be thread-safe.
  PartitionStateHistory(int partitions, Reader read);
  ~PartitionStateHistory();  // Stops the thread.
  PartitionStateHistory(const PartitionStateHistory&) = delete;
  PartitionStateHistory& operator=(const PartitionStateHistory&) = delete;

  void Start();
  void Stop();

  // CheckLeaderEpochs of what was recorded. REQUIRES: Stop() returned.
  EpochCheck Check() const;

 private:
  void Run();

  const int partitions_;
  const Reader read_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  StateVersions seen_;  // guarded by mu_
};

}  // namespace sluice::testing
