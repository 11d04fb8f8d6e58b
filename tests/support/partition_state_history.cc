#include "support/partition_state_history.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include <fmt/format.h>

namespace sluice::testing {

PartitionStateHistory::PartitionStateHistory(int partitions, Reader read)
    : partitions_(partitions), read_(std::move(read)) {}

PartitionStateHistory::~PartitionStateHistory() { Stop(); }

void PartitionStateHistory::Start() { thread_ = std::thread([this] { Run(); }); }

void PartitionStateHistory::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PartitionStateHistory::Run() {
  while (!stop_.load()) {
    for (int32_t p = 0; p < partitions_ && !stop_.load(); ++p) {
      auto state = read_(p);
      if (!state) continue;  // Not created yet, or ZooKeeper unreachable.
      std::lock_guard lock(mu_);
      seen_[p].emplace(state->second, state->first);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

EpochCheck PartitionStateHistory::Check() const {
  std::lock_guard lock(mu_);
  return CheckLeaderEpochs(seen_);
}

EpochCheck CheckLeaderEpochs(const StateVersions& seen) {
  EpochCheck out;
  for (const auto& [p, versions] : seen) {
    std::map<int32_t, std::pair<int32_t, int32_t>> leader_of_epoch;  // epoch -> (leader, version)
    const zk::PartitionState* previous = nullptr;
    int32_t previous_version = -1;
    for (const auto& [version, s] : versions) {
      ++out.versions_seen;
      if (previous != nullptr) {
        out.versions_missed += version - previous_version - 1;
        if (previous->leader != s.leader) ++out.leader_changes;
        if (s.leader_epoch < previous->leader_epoch) {
          out.problems.push_back(fmt::format(
              "partition {}: leader epoch went down from {} (version {}) to {} (version {})", p,
              previous->leader_epoch, previous_version, s.leader_epoch, version));
        }
      }
      auto [it, inserted] = leader_of_epoch.emplace(s.leader_epoch, std::pair(s.leader, version));
      if (!inserted && it->second.first != s.leader) {
        out.problems.push_back(fmt::format(
            "partition {}: leader epoch {} had leader {} (version {}) and leader {} (version {})",
            p, s.leader_epoch, it->second.first, it->second.second, s.leader, version));
      }
      if (s.leader >= 0 && std::find(s.isr.begin(), s.isr.end(), s.leader) == s.isr.end()) {
        out.problems.push_back(fmt::format("partition {} version {}: leader {} not in ISR [{}]", p,
                                           version, s.leader, fmt::join(s.isr, ",")));
      }
      previous = &s;
      previous_version = version;
    }
  }
  return out;
}

std::string EpochCheck::Summary() const {
  return fmt::format("partition states: {} versions seen ({} missed between polls), {} leader "
                     "changes, {} problem(s)",
                     versions_seen, versions_missed, leader_changes, problems.size());
}

}  // namespace sluice::testing
