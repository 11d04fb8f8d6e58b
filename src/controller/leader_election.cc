#include "controller/leader_election.h"

#include <algorithm>
#include <utility>

namespace sluice::controller {
namespace {

bool Contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::optional<zk::PartitionState> DecideForLiveBrokers(const std::vector<int32_t>& replicas,
                                                       const std::optional<zk::PartitionState>& current,
                                                       const std::set<int32_t>& live, bool unclean,
                                                       int32_t controller_epoch) {
  return DecideForLiveBrokers(replicas, current, live, {}, unclean, controller_epoch);
}

std::optional<zk::PartitionState> DecideForLiveBrokers(const std::vector<int32_t>& replicas,
                                                       const std::optional<zk::PartitionState>& current,
                                                       const std::set<int32_t>& live,
                                                       const std::set<int32_t>& shutting_down,
                                                       bool unclean, int32_t controller_epoch) {
  // Who may become a leader or a new ISR member.
  auto eligible = [&](int32_t r) { return live.contains(r) && !shutting_down.contains(r); };
  zk::PartitionState next;
  next.controller_epoch = controller_epoch;
  if (!current) {
    for (int32_t r : replicas) {
      if (eligible(r)) next.isr.push_back(r);
    }
    if (next.isr.empty()) return std::nullopt;
    next.leader = next.isr.front();
    next.leader_epoch = 0;
    return next;
  }
  std::vector<int32_t> live_isr;
  for (int32_t r : current->isr) {
    if (live.contains(r)) live_isr.push_back(r);
  }
  next.leader_epoch = current->leader_epoch + 1;
  if (current->leader >= 0 && live.contains(current->leader)) {
    if (live_isr.size() == current->isr.size()) return std::nullopt;
    next.leader = current->leader;
    next.isr = std::move(live_isr);
    return next;
  }
  for (int32_t r : replicas) {
    if (eligible(r) && Contains(current->isr, r)) {
      next.leader = r;
      next.isr = std::move(live_isr);
      return next;
    }
  }
  if (unclean) {
    for (int32_t r : replicas) {
      if (eligible(r)) {
        next.leader = r;
        next.isr = {r};
        return next;
      }
    }
  }
  if (current->leader < 0) return std::nullopt;  // Offline already.
  next.leader = -1;
  if (Contains(current->isr, current->leader)) {
    next.isr = {current->leader};
  } else if (!current->isr.empty()) {
    next.isr = {current->isr.back()};
  }
  return next;
}

UncleanDecision DecideUnclean(const std::vector<int32_t>& replicas,
                              const zk::PartitionState& current, const std::set<int32_t>& live,
                              int32_t controller_epoch) {
  return DecideUnclean(replicas, current, live, {}, controller_epoch);
}

UncleanDecision DecideUnclean(const std::vector<int32_t>& replicas,
                              const zk::PartitionState& current, const std::set<int32_t>& live,
                              const std::set<int32_t>& shutting_down, int32_t controller_epoch) {
  UncleanDecision d;
  if (current.leader >= 0 && live.contains(current.leader)) {
    d.outcome = UncleanElection::kNotNeeded;
    return d;
  }
  // The same rules as a broker's death with unclean election allowed; what
  // they cannot give a leader stays as it is.
  std::optional<zk::PartitionState> next =
      DecideForLiveBrokers(replicas, current, live, shutting_down, /*unclean=*/true,
                           controller_epoch);
  if (!next || next->leader < 0) return d;
  d.outcome = UncleanElection::kElect;
  d.next = std::move(*next);
  return d;
}

std::optional<zk::PartitionState> DecideForControlledShutdown(
    const std::vector<int32_t>& replicas, const zk::PartitionState& current, int32_t broker,
    const std::set<int32_t>& live, const std::set<int32_t>& shutting_down,
    int32_t controller_epoch) {
  zk::PartitionState next;
  next.controller_epoch = controller_epoch;
  next.leader_epoch = current.leader_epoch + 1;
  if (current.leader == broker) {
    for (int32_t r : replicas) {
      if (live.contains(r) && !shutting_down.contains(r) && Contains(current.isr, r)) {
        next.leader = r;
        for (int32_t m : current.isr) {
          if (!shutting_down.contains(m)) next.isr.push_back(m);
        }
        return next;
      }
    }
    return std::nullopt;
  }
  if (!Contains(current.isr, broker) || current.isr.size() == 1) return std::nullopt;
  next.leader = current.leader;
  for (int32_t m : current.isr) {
    if (m != broker) next.isr.push_back(m);
  }
  return next;
}

PreferredElection DecidePreferred(const std::vector<int32_t>& replicas,
                                  const zk::PartitionState& current,
                                  const std::set<int32_t>& live) {
  if (replicas.empty()) return PreferredElection::kNotAvailable;
  const int32_t preferred = replicas.front();
  if (current.leader == preferred) return PreferredElection::kNotNeeded;
  if (!live.contains(preferred) || !Contains(current.isr, preferred)) {
    return PreferredElection::kNotAvailable;
  }
  return PreferredElection::kElect;
}

}  // namespace sluice::controller
