// The controller's partition decisions, as pure functions of a partition's
// assignment, its current state and the live brokers (Kafka's ZooKeeper-mode
// PartitionStateMachine and ReplicaStateMachine rules). The state machine
// writes what these decide; keeping them apart makes each rule testable
// without ZooKeeper.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "zk/znodes.h"

namespace sluice::controller {

// The state a partition should have for the live set `live`, or nullopt if
// its current state is right (or nothing can be done). The rules:
//  * No state yet (a new partition): the first live replica in assignment
//    order leads, the live replicas are the ISR (assignment order), epoch 0.
//    No live replica: nullopt (no state is written until one comes).
//  * Leader not live (or none): the first replica in assignment order that
//    is live and in the ISR leads; the ISR keeps its live members; leader
//    epoch + 1. If there is none and `unclean` allows, the first live
//    replica leads alone (data may be lost). Otherwise the partition goes
//    offline: leader -1, the ISR keeps only its last member (the old leader,
//    who has every acknowledged record, so that it alone may lead again),
//    epoch + 1; already offline: nullopt.
//  * Leader live: ISR members that are not live are removed, epoch + 1.
// The result carries `controller_epoch`.
std::optional<zk::PartitionState> DecideForLiveBrokers(const std::vector<int32_t>& replicas,
                                                       const std::optional<zk::PartitionState>& current,
                                                       const std::set<int32_t>& live, bool unclean,
                                                       int32_t controller_epoch);
// The same, where the live brokers in `shutting_down` (in a controlled
// shutdown) are never chosen: not as a new leader, clean or unclean, nor as
// a new partition's ISR members. Where they already lead or are in the ISR
// they stay: a broker that could not hand a partition over keeps serving it
// until it leaves the live set.
std::optional<zk::PartitionState> DecideForLiveBrokers(const std::vector<int32_t>& replicas,
                                                       const std::optional<zk::PartitionState>& current,
                                                       const std::set<int32_t>& live,
                                                       const std::set<int32_t>& shutting_down,
                                                       bool unclean, int32_t controller_epoch);

// The state a partition should have when the live broker `broker` asks to
// shut down (Kafka's controlled shutdown), or nullopt to leave it as it is.
// `shutting_down` holds `broker` and any other broker shutting down.
//  * `broker` leads: the first replica in assignment order that is live, in
//    the ISR and not shutting down leads; the ISR loses every broker
//    shutting down; leader epoch + 1. With no such replica, nullopt: the
//    broker keeps leading (the caller reports the partition as remaining).
//  * Another broker leads and `broker` is in the ISR: the ISR loses it,
//    leader epoch + 1 (the replicas apply only a newer leader epoch). Not
//    when it is the ISR's only member (an offline partition keeps the one
//    replica that may lead it again).
//  * Otherwise nullopt.
// The result carries `controller_epoch`.
std::optional<zk::PartitionState> DecideForControlledShutdown(
    const std::vector<int32_t>& replicas, const zk::PartitionState& current, int32_t broker,
    const std::set<int32_t>& live, const std::set<int32_t>& shutting_down,
    int32_t controller_epoch);

// An unclean election on demand (ElectLeaders with election type 1,
// KIP-460), whatever unclean.leader.election.enable says: only for a
// partition without a live leader. The first live ISR member in assignment
// order leads if there is one (a clean election after all); otherwise the
// first live replica leads alone, with whatever its log has. Leader epoch
// + 1. kNotNeeded: the leader is live (ELECTION_NOT_NEEDED); kNoneEligible:
// no replica is live (ELIGIBLE_LEADERS_NOT_AVAILABLE).
enum class UncleanElection { kElect, kNotNeeded, kNoneEligible };
struct UncleanDecision {
  UncleanElection outcome = UncleanElection::kNoneEligible;
  zk::PartitionState next;  // on kElect, with `controller_epoch`
};
UncleanDecision DecideUnclean(const std::vector<int32_t>& replicas,
                              const zk::PartitionState& current, const std::set<int32_t>& live,
                              int32_t controller_epoch);
// The same, never electing a broker in `shutting_down` (a leader shutting
// down is still live: not needed).
UncleanDecision DecideUnclean(const std::vector<int32_t>& replicas,
                              const zk::PartitionState& current, const std::set<int32_t>& live,
                              const std::set<int32_t>& shutting_down, int32_t controller_epoch);

enum class PreferredElection {
  kElect,         // the preferred replica can lead: do it
  kNotNeeded,     // it leads already (ELECTION_NOT_NEEDED)
  kNotAvailable,  // it is not live or not in the ISR (PREFERRED_LEADER_NOT_AVAILABLE)
};
// Whether the preferred replica (the first in assignment order) can take
// over. On kElect the new state is `current` with that leader and epoch + 1.
PreferredElection DecidePreferred(const std::vector<int32_t>& replicas,
                                  const zk::PartitionState& current, const std::set<int32_t>& live);

}  // namespace sluice::controller
