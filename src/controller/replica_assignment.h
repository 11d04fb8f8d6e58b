// Replica assignment: which brokers hold the replicas of new partitions.
//
// Kafka's ZooKeeper-era algorithm (AdminUtils.assignReplicasToBrokers), so a
// cluster's layout looks as an operator of such a cluster expects:
//
//  * Without racks, brokers sorted by id: partition p's first replica (its
//    preferred leader) is broker (start + p) mod n, so leaders go round-robin
//    from a random start. The other replicas follow it at a distance set by
//    a "shift" that starts random and grows by one after every n partitions,
//    so the followers of one broker's partitions are spread over the others
//    instead of always being its neighbours.
//  * With racks, the same walk over a rack-alternated list (one broker of
//    each rack in turn), and a follower is skipped while its rack already
//    holds a replica of the partition and some rack holds none, or its broker
//    does and some broker holds none: replicas land on as many racks as
//    there are.
//
// Leaders are even: their counts per broker differ by at most one. Replicas
// are exactly even when the partition count is a multiple of the broker
// count (each block of n consecutive partitions gives every broker the same
// number); for a last, partial block the followers of neighbouring leaders
// overlap and counts may differ by more (5 brokers, 2 partitions, factor 3:
// 2, 2, 1, 1, 0). That is Kafka's behaviour, kept.
//
// Errors are Status values whose code says which Kafka error to answer:
//   kOutOfRange       INVALID_PARTITIONS
//   kInvalidArgument  INVALID_REPLICATION_FACTOR from Assign*, and
//                     INVALID_REPLICA_ASSIGNMENT from ValidateExplicitAssignment
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::controller {

// partition -> replicas, the preferred leader first.
using ReplicaAssignment = std::map<int32_t, std::vector<int32_t>>;

struct BrokerPlacement {
  int32_t id = -1;
  std::optional<std::string> rack;  // broker.rack
};

// A uniform draw from [0, bound), bound > 0. Injected so tests (and replays)
// are deterministic.
using RandomIndex = std::function<int32_t(int32_t bound)>;
// Draws from a generator seeded with `seed`.
RandomIndex SeededRandomIndex(uint64_t seed);
// Draws from a generator seeded from std::random_device.
RandomIndex DefaultRandomIndex();

enum class RackMode {
  // Racks are used when every broker has one; some but not all is an error
  // (Kafka's default for CreateTopics and CreatePartitions).
  kEnforced,
  // Racks are used when every broker has one, otherwise ignored (Kafka's
  // mode for topics created automatically).
  kSafe,
};

// Assigns `partitions` partitions (0..partitions-1) of `replication_factor`
// replicas each over `brokers` (the live brokers; any order, ids unique).
// Errors: partitions <= 0 (kOutOfRange); replication_factor <= 0 or more
// than the brokers, or some but not all brokers with a rack in kEnforced mode
// (kInvalidArgument).
Result<ReplicaAssignment> AssignReplicas(std::vector<BrokerPlacement> brokers, int32_t partitions,
                                         int32_t replication_factor, const RandomIndex& random,
                                         RackMode mode = RackMode::kEnforced);

// CreatePartitions: assigns partitions [existing.size(), total_partitions) of
// a topic whose partitions 0..existing.size()-1 are `existing`, with the
// replication factor of partition 0, continuing Kafka's walk: the start is
// the first broker whose id is at least partition 0's first replica, and the
// partition numbers go on from the existing ones (so the round-robin goes on
// where the topic's creation would have). Nothing is random.
// Errors: total_partitions <= existing.size() (kOutOfRange); an existing
// assignment without partition 0, or with gaps (kInvalidArgument); as
// AssignReplicas otherwise.
Result<ReplicaAssignment> AssignAddedPartitions(std::vector<BrokerPlacement> brokers,
                                                const ReplicaAssignment& existing,
                                                int32_t total_partitions,
                                                RackMode mode = RackMode::kEnforced);

// Checks a replica assignment a client gave (CreateTopics with assignments,
// CreatePartitions with assignments): partitions numbered first_partition,
// first_partition+1, ... without gaps; no empty replica list; every
// partition with the same number of replicas, which is
// `replication_factor` if that is > 0 (CreatePartitions: the topic's); no
// broker twice in one list; every broker in `live_brokers`. The error
// (kInvalidArgument) names the first problem found and the partition.
Status ValidateExplicitAssignment(const ReplicaAssignment& assignment,
                                  const std::set<int32_t>& live_brokers,
                                  int32_t first_partition = 0, int32_t replication_factor = -1);

}  // namespace sluice::controller
