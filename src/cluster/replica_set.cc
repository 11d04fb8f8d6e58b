#include "cluster/replica_set.h"

#include <algorithm>

namespace sluice::cluster {

namespace {
bool Contains(const std::vector<int32_t>& v, int32_t id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}
}  // namespace

void ReplicaSet::Reset(int32_t local_id, std::vector<int32_t> replicas, std::vector<int32_t> isr,
                       int64_t now_ms) {
  local_id_ = local_id;
  replicas_ = std::move(replicas);
  isr_ = std::move(isr);
  std::map<int32_t, Progress> followers;
  for (int32_t id : replicas_) {
    if (id == local_id_) continue;
    Progress p;
    // A new leader does not know where its followers are until they fetch;
    // those in the ISR get the full lag time to show up (as in Kafka).
    if (Contains(isr_, id)) p.last_caught_up_ms = now_ms;
    followers.emplace(id, p);
  }
  followers_ = std::move(followers);
}

bool ReplicaSet::IsReplica(int32_t id) const { return Contains(replicas_, id); }
bool ReplicaSet::InIsr(int32_t id) const { return Contains(isr_, id); }

void ReplicaSet::RecordFetch(int32_t replica, int64_t fetch_offset, int64_t leader_leo,
                             int64_t now_ms) {
  auto it = followers_.find(replica);
  if (it == followers_.end()) return;
  Progress& p = it->second;
  if (fetch_offset >= leader_leo) {
    p.last_caught_up_ms = std::max(p.last_caught_up_ms, now_ms);
  } else if (p.last_fetch_ms >= 0 && fetch_offset >= p.leader_leo_at_last_fetch) {
    // It has everything the leader had at its previous fetch: it was caught
    // up then, and this fetch is the proof.
    p.last_caught_up_ms = std::max(p.last_caught_up_ms, p.last_fetch_ms);
  }
  p.log_end_offset = fetch_offset;
  p.last_fetch_ms = now_ms;
  p.leader_leo_at_last_fetch = leader_leo;
}

int64_t ReplicaSet::FollowerEndOffset(int32_t replica) const {
  auto it = followers_.find(replica);
  return it == followers_.end() ? -1 : it->second.log_end_offset;
}

int64_t ReplicaSet::CommittableOffset(int64_t local_durable) const {
  int64_t committable = local_durable;
  for (int32_t id : isr_) {
    if (id == local_id_) continue;
    auto it = followers_.find(id);
    // An ISR member that has not fetched yet holds the watermark where it is.
    const int64_t leo = it == followers_.end() ? -1 : it->second.log_end_offset;
    committable = std::min(committable, leo);
  }
  return committable;
}

std::optional<std::vector<int32_t>> ReplicaSet::IsrWithoutLagging(int64_t now_ms,
                                                                 int64_t max_lag_ms) const {
  std::vector<int32_t> kept;
  for (int32_t id : isr_) {
    auto it = followers_.find(id);
    const bool lagging = id != local_id_ && it != followers_.end() &&
                         now_ms - it->second.last_caught_up_ms > max_lag_ms;
    if (!lagging) kept.push_back(id);
  }
  if (kept.size() == isr_.size()) return std::nullopt;
  return kept;
}

std::optional<std::vector<int32_t>> ReplicaSet::IsrWithCaughtUp(int64_t high_watermark,
                                                               int64_t epoch_start, int64_t now_ms,
                                                               int64_t max_lag_ms) const {
  std::vector<int32_t> isr = isr_;
  for (const auto& [id, p] : followers_) {
    if (InIsr(id)) continue;
    const bool fetching = p.last_fetch_ms >= 0 && now_ms - p.last_fetch_ms <= max_lag_ms;
    if (fetching && p.log_end_offset >= high_watermark && p.log_end_offset >= epoch_start) {
      isr.push_back(id);
    }
  }
  if (isr.size() == isr_.size()) return std::nullopt;
  return isr;
}

void ReplicaSet::SetIsr(std::vector<int32_t> isr, int64_t now_ms) {
  for (int32_t id : isr) {
    auto it = followers_.find(id);
    if (it != followers_.end() && !InIsr(id)) {
      it->second.last_caught_up_ms = std::max(it->second.last_caught_up_ms, now_ms);
    }
  }
  isr_ = std::move(isr);
}

}  // namespace sluice::cluster
