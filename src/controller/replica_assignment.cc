#include "controller/replica_assignment.h"

#include <algorithm>
#include <memory>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sluice::controller {
namespace {

// Where the j-th follower (j from 0) of a partition led from index `first`
// goes: 1 + (shift + j) mod (n - 1) places after it, never on it.
int32_t FollowerIndex(int32_t first, int32_t shift, int32_t j, int32_t n) {
  const int32_t distance = 1 + (shift + j) % (n - 1);
  return (first + distance) % n;
}

// The walk over brokers without racks. `start` and `shift` >= 0; partition
// ids from `first_partition`.
ReplicaAssignment AssignWithoutRacks(const std::vector<int32_t>& brokers, int32_t partitions,
                                     int32_t replication_factor, int32_t start, int32_t shift,
                                     int32_t first_partition) {
  ReplicaAssignment out;
  const int32_t n = static_cast<int32_t>(brokers.size());
  for (int32_t p = first_partition; p < first_partition + partitions; ++p) {
    // Every n partitions the followers move one further from their leader.
    if (p > 0 && p % n == 0) ++shift;
    const int32_t first = (p + start) % n;
    std::vector<int32_t>& replicas = out[p];
    replicas.push_back(brokers[static_cast<size_t>(first)]);
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      replicas.push_back(brokers[static_cast<size_t>(FollowerIndex(first, shift, j, n))]);
    }
  }
  return out;
}

// Brokers ordered so racks alternate: the lowest id of each rack (racks in
// name order), then the second of each, and so on; a rack that runs out is
// skipped.
std::vector<int32_t> RackAlternated(const std::map<int32_t, std::string>& rack_of) {
  std::map<std::string, std::vector<int32_t>> by_rack;  // ids ascending: rack_of is sorted
  for (const auto& [id, rack] : rack_of) by_rack[rack].push_back(id);
  std::vector<int32_t> out;
  for (size_t round = 0; out.size() < rack_of.size(); ++round) {
    for (const auto& [rack, ids] : by_rack) {
      if (round < ids.size()) out.push_back(ids[round]);
    }
  }
  return out;
}

ReplicaAssignment AssignWithRacks(const std::map<int32_t, std::string>& rack_of,
                                  int32_t partitions, int32_t replication_factor, int32_t start,
                                  int32_t shift, int32_t first_partition) {
  const std::vector<int32_t> brokers = RackAlternated(rack_of);
  std::set<std::string> racks;
  for (const auto& [id, rack] : rack_of) racks.insert(rack);
  const int32_t n = static_cast<int32_t>(brokers.size());
  const size_t rack_count = racks.size();
  ReplicaAssignment out;
  for (int32_t p = first_partition; p < first_partition + partitions; ++p) {
    if (p > 0 && p % n == 0) ++shift;
    const int32_t first = (p + start) % n;
    const int32_t leader = brokers[static_cast<size_t>(first)];
    std::vector<int32_t>& replicas = out[p];
    replicas.push_back(leader);
    std::set<std::string> racks_used = {rack_of.at(leader)};
    std::set<int32_t> brokers_used = {leader};
    // The shift is scaled by the rack count so that, in the alternated list,
    // a partition's followers start on another rack than its leader's.
    int32_t k = 0;
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      while (true) {
        const int32_t b = brokers[static_cast<size_t>(
            FollowerIndex(first, shift * static_cast<int32_t>(rack_count), k, n))];
        ++k;
        const std::string& rack = rack_of.at(b);
        const bool rack_ok = !racks_used.contains(rack) || racks_used.size() == rack_count;
        const bool broker_ok = !brokers_used.contains(b) || brokers_used.size() == brokers.size();
        if (rack_ok && broker_ok) {
          replicas.push_back(b);
          racks_used.insert(rack);
          brokers_used.insert(b);
          break;
        }
      }
    }
  }
  return out;
}

// Common checks and the choice between the two walks.
Result<ReplicaAssignment> Assign(std::vector<BrokerPlacement> brokers, int32_t partitions,
                                 int32_t replication_factor, int32_t start, int32_t shift,
                                 int32_t first_partition, RackMode mode) {
  if (partitions <= 0) {
    return Status::OutOfRange(fmt::format("number of partitions must be larger than 0, not {}",
                                          partitions));
  }
  if (replication_factor <= 0) {
    return Status::InvalidArgument(
        fmt::format("replication factor must be larger than 0, not {}", replication_factor));
  }
  if (static_cast<size_t>(replication_factor) > brokers.size()) {
    return Status::InvalidArgument(
        fmt::format("replication factor: {} larger than available brokers: {}",
                    replication_factor, brokers.size()));
  }
  std::sort(brokers.begin(), brokers.end(),
            [](const BrokerPlacement& a, const BrokerPlacement& b) { return a.id < b.id; });
  const size_t with_rack = static_cast<size_t>(std::count_if(
      brokers.begin(), brokers.end(), [](const BrokerPlacement& b) { return b.rack.has_value(); }));
  if (with_rack == brokers.size()) {
    std::map<int32_t, std::string> rack_of;
    for (const BrokerPlacement& b : brokers) rack_of[b.id] = *b.rack;
    return AssignWithRacks(rack_of, partitions, replication_factor, start, shift,
                           first_partition);
  }
  if (with_rack > 0 && mode == RackMode::kEnforced) {
    std::vector<int32_t> without;
    for (const BrokerPlacement& b : brokers) {
      if (!b.rack) without.push_back(b.id);
    }
    return Status::InvalidArgument(fmt::format(
        "not all brokers have rack information for rack-aware replica assignment "
        "(brokers without broker.rack: {})",
        without));
  }
  std::vector<int32_t> ids;
  for (const BrokerPlacement& b : brokers) ids.push_back(b.id);
  return AssignWithoutRacks(ids, partitions, replication_factor, start, shift, first_partition);
}

}  // namespace

RandomIndex SeededRandomIndex(uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng](int32_t bound) {
    return std::uniform_int_distribution<int32_t>(0, bound - 1)(*rng);
  };
}

RandomIndex DefaultRandomIndex() { return SeededRandomIndex(std::random_device()()); }

Result<ReplicaAssignment> AssignReplicas(std::vector<BrokerPlacement> brokers, int32_t partitions,
                                         int32_t replication_factor, const RandomIndex& random,
                                         RackMode mode) {
  const int32_t n = static_cast<int32_t>(brokers.size());
  // Drawn only when there is something to assign; the errors come from Assign.
  const int32_t start = n > 0 ? random(n) : 0;
  const int32_t shift = n > 0 ? random(n) : 0;
  return Assign(std::move(brokers), partitions, replication_factor, start, shift, 0, mode);
}

Result<ReplicaAssignment> AssignAddedPartitions(std::vector<BrokerPlacement> brokers,
                                                const ReplicaAssignment& existing,
                                                int32_t total_partitions, RackMode mode) {
  auto p0 = existing.find(0);
  if (p0 == existing.end() || p0->second.empty()) {
    return Status::InvalidArgument("the topic's assignment has no replicas for partition 0");
  }
  if (existing.rbegin()->first != static_cast<int32_t>(existing.size()) - 1) {
    return Status::InvalidArgument("the topic's partitions are not numbered 0..n-1");
  }
  const int32_t have = static_cast<int32_t>(existing.size());
  if (total_partitions <= have) {
    return Status::OutOfRange(fmt::format(
        "topic currently has {} partitions, {} would not be an increase", have,
        total_partitions));
  }
  std::sort(brokers.begin(), brokers.end(),
            [](const BrokerPlacement& a, const BrokerPlacement& b) { return a.id < b.id; });
  // Kafka's start: the first broker (by id) at or after partition 0's leader.
  const int32_t leader0 = p0->second.front();
  int32_t start = 0;
  for (size_t i = 0; i < brokers.size(); ++i) {
    if (brokers[i].id >= leader0) {
      start = static_cast<int32_t>(i);
      break;
    }
  }
  return Assign(std::move(brokers), total_partitions - have,
                static_cast<int32_t>(p0->second.size()), start, start, have, mode);
}

Status ValidateExplicitAssignment(const ReplicaAssignment& assignment,
                                  const std::set<int32_t>& live_brokers, int32_t first_partition,
                                  int32_t replication_factor) {
  if (assignment.empty()) return Status::InvalidArgument("the replica assignment is empty");
  int32_t expected = first_partition;
  size_t factor = replication_factor > 0 ? static_cast<size_t>(replication_factor) : 0;
  for (const auto& [p, replicas] : assignment) {
    if (p != expected) {
      return Status::InvalidArgument(fmt::format(
          "partitions should be a consecutive sequence from {}: partition {} is missing",
          first_partition, expected));
    }
    ++expected;
    if (replicas.empty()) {
      return Status::InvalidArgument(fmt::format("partition {} has no replicas", p));
    }
    if (factor == 0) factor = replicas.size();
    if (replicas.size() != factor) {
      return Status::InvalidArgument(fmt::format(
          "all partitions should have the same number of replicas: partition {} has {}, not {}",
          p, replicas.size(), factor));
    }
    std::set<int32_t> seen;
    for (int32_t b : replicas) {
      if (!seen.insert(b).second) {
        return Status::InvalidArgument(
            fmt::format("duplicate replica assignment for partition {}: {}", p, replicas));
      }
      if (!live_brokers.contains(b)) {
        return Status::InvalidArgument(
            fmt::format("unknown or not live broker {} in the replicas of partition {}", b, p));
      }
    }
  }
  return Status::Ok();
}

}  // namespace sluice::controller
