#include "cluster/metadata_cache.h"

namespace sluice::cluster {

MetadataCache::MetadataCache() : snapshot_(std::make_shared<const MetadataSnapshot>()) {}

bool MetadataCache::Update(int32_t controller_epoch, const std::vector<PartitionUpdate>& partitions) {
  {
    MutexLock lock(&update_mu_);
    std::shared_ptr<const MetadataSnapshot> current = Current();
    if (controller_epoch < current->controller_epoch) return false;
    Apply(*current, controller_epoch, partitions);
  }
  // Outside update_mu_: a waiter may read the cache (never update it).
  std::map<uint64_t, std::function<void()>> ready;
  {
    MutexLock lock(&waiters_mu_);
    ready.swap(waiters_);
  }
  for (auto& [id, fn] : ready) fn();
  return true;
}

uint64_t MetadataCache::AddWaiter(std::function<void()> fn) {
  MutexLock lock(&waiters_mu_);
  const uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(fn));
  return id;
}

bool MetadataCache::RemoveWaiter(uint64_t id) {
  MutexLock lock(&waiters_mu_);
  return waiters_.erase(id) > 0;
}

void MetadataCache::Apply(const MetadataSnapshot& current, int32_t controller_epoch,
                          const std::vector<PartitionUpdate>& partitions) {
  auto next = std::make_shared<MetadataSnapshot>(current);
  next->controller_epoch = controller_epoch;
  next->informed = true;
  for (const PartitionUpdate& u : partitions) {
    if (u.state.leader == PartitionUpdate::kDeleted) {
      auto t = next->topics.find(u.topic);
      if (t == next->topics.end()) continue;
      t->second.partitions.erase(u.partition);
      if (t->second.partitions.empty()) next->topics.erase(t);
      continue;
    }
    TopicMetadata& t = next->topics[u.topic];
    t.id = u.topic_id;
    t.partitions[u.partition] = u.state;
  }
  snapshot_.store(std::move(next), std::memory_order_release);
}

bool MetadataCache::ApplyLeaderChanges(int32_t controller_epoch,
                                       const std::vector<PartitionUpdate>& partitions) {
  MutexLock lock(&update_mu_);
  std::shared_ptr<const MetadataSnapshot> current = Current();
  if (controller_epoch < current->controller_epoch) return false;
  std::shared_ptr<MetadataSnapshot> next;
  for (const PartitionUpdate& u : partitions) {
    if (u.state.leader == PartitionUpdate::kDeleted) continue;
    auto t = current->topics.find(u.topic);
    const PartitionMetadata* cached = nullptr;
    if (t != current->topics.end()) {
      auto p = t->second.partitions.find(u.partition);
      if (p != t->second.partitions.end()) cached = &p->second;
    }
    if (cached != nullptr && cached->leader_epoch >= u.state.leader_epoch) continue;
    if (!next) next = std::make_shared<MetadataSnapshot>(*current);
    TopicMetadata& topic = next->topics[u.topic];
    topic.id = u.topic_id;
    PartitionMetadata& state = topic.partitions[u.partition];
    std::vector<int32_t> offline = cached != nullptr ? cached->offline_replicas
                                                     : std::vector<int32_t>{};
    state = u.state;
    state.offline_replicas = std::move(offline);
  }
  if (next) {
    next->controller_epoch = controller_epoch;
    snapshot_.store(std::move(next), std::memory_order_release);
  }
  return true;
}

}  // namespace sluice::cluster
