#include "replication/replica_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "interbroker/message_conversion.h"

namespace sluice::replication {

namespace {

using protocol::ErrorCode;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Contains(const std::vector<int32_t>& v, int32_t id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

ReplicaManager::ReplicaManager(cluster::PartitionManager* partitions, ReplicaManagerOptions options)
    : partitions_(partitions), options_(std::move(options)) {
  isr_thread_ = std::thread([this] { RunIsrThread(); });
}

ReplicaManager::~ReplicaManager() { Shutdown(); }

void ReplicaManager::Shutdown() {
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers;
  {
    MutexLock lock(&mu_);
    stop_ = true;
    wake_.SignalAll();
    fetchers.swap(fetchers_);
    fetched_from_.clear();
  }
  for (auto& [id, f] : fetchers) f->Shutdown();
  if (isr_thread_.joinable()) isr_thread_.join();
  ReapRetiredFetchers();
}

void ReplicaManager::ResignLeadership() {
  std::map<storage::TopicPartition, std::shared_ptr<cluster::Partition>> led;
  {
    MutexLock lock(&mu_);
    led.swap(led_);
  }
  std::vector<RoleChange> changes;
  for (const auto& [tp, p] : led) {
    p->BecomeFollower(/*leader_id=*/-1, p->leader_epoch(), p->partition_epoch());
    changes.push_back({tp, /*is_leader=*/false, p->leader_epoch()});
  }
  NotifyRoleChanges(changes);
}

ReplicaStats ReplicaManager::stats() const {
  MutexLock lock(&mu_);
  ReplicaStats st;
  st.leaders = led_.size();
  for (const auto& [tp, p] : led_) {
    if (p->isr_size() < p->replicas().size()) ++st.under_replicated;
    st.max_follower_lag = std::max<uint64_t>(st.max_follower_lag, p->MaxFollowerLag());
  }
  st.followers = fetched_from_.size();
  st.isr_shrinks = isr_shrinks_;
  st.isr_expands = isr_expands_;
  return st;
}

int32_t ReplicaManager::controller_epoch() const {
  MutexLock lock(&mu_);
  return controller_epoch_;
}

std::optional<FetcherStats> ReplicaManager::fetcher_stats(int32_t leader_id) const {
  MutexLock lock(&mu_);
  auto it = fetchers_.find(leader_id);
  if (it == fetchers_.end()) return std::nullopt;
  return it->second->stats();
}

std::optional<LeaderEndpoint> ReplicaManager::EndpointOf(
    const controller::LeaderAndIsrRequest& request, int32_t broker_id) const {
  for (const zk::BrokerRegistration& b : request.live_leaders) {
    if (b.id != broker_id) continue;
    std::optional<interbroker::Endpoint> e = interbroker::FindEndpoint(b, options_.listener_name);
    if (!e) return std::nullopt;
    return LeaderEndpoint{broker_id, e->host.empty() ? "127.0.0.1" : e->host, e->port};
  }
  return std::nullopt;
}

void ReplicaManager::AssignFetcherLocked(const std::shared_ptr<cluster::Partition>& p,
                                         const std::optional<LeaderEndpoint>& leader) {
  const storage::TopicPartition& tp = p->tp();
  if (auto was = fetched_from_.find(tp); was != fetched_from_.end()) {
    if (auto f = fetchers_.find(was->second); f != fetchers_.end()) f->second->Remove(tp);
    fetched_from_.erase(was);
  }
  if (!leader) return;
  auto it = fetchers_.find(leader->id);
  if (it != fetchers_.end() && !(it->second->leader() == *leader)) {
    // The leader's broker moved (a restart on another port): a new thread.
    it->second->Shutdown();
    fetchers_.erase(it);
    it = fetchers_.end();
  }
  if (it == fetchers_.end()) {
    FetcherOptions fo = options_.fetcher;
    fo.local_id = options_.broker_id;
    it = fetchers_.emplace(leader->id, std::make_unique<ReplicaFetcher>(*leader, fo)).first;
  }
  it->second->Add(p);
  fetched_from_[tp] = leader->id;
}

void ReplicaManager::DropIdleFetchersLocked() {
  for (auto it = fetchers_.begin(); it != fetchers_.end();) {
    if (it->second->partition_count() == 0) {
      it->second->Stop();
      retired_.push_back(std::move(it->second));
      it = fetchers_.erase(it);
    } else {
      ++it;
    }
  }
}

ApplyResult ReplicaManager::ApplyLeaderAndIsr(const controller::LeaderAndIsrRequest& request) {
  ApplyResult result;
  std::vector<RoleChange> changes;
  MutexLock lock(&mu_);
  if (request.controller_epoch < controller_epoch_) {
    spdlog::warn("LeaderAndIsr from controller {} at epoch {} ignored: epoch {} seen already",
                 request.controller_id, request.controller_epoch, controller_epoch_);
    result.error = ErrorCode::STALE_CONTROLLER_EPOCH;
    return result;
  }
  controller_epoch_ = request.controller_epoch;
  const int64_t now = options_.clock ? options_.clock() : SteadyMs();

  // Host the partitions first, topic by topic (their logs, opened or made).
  std::map<std::string, std::vector<const controller::PartitionLeaderInfo*>> by_topic;
  for (const controller::PartitionLeaderInfo& info : request.partitions) {
    PartitionResult& r = result.partitions.emplace_back();
    r.topic = info.topic;
    r.partition = info.partition;
    if (!Contains(info.replicas, options_.broker_id)) continue;  // not ours: nothing to do
    const storage::TopicPartition tp{info.topic, info.partition};
    auto applied = applied_epoch_.find(tp);
    if (applied != applied_epoch_.end() && info.leader_epoch <= applied->second) {
      r.error = ErrorCode::STALE_CONTROLLER_EPOCH;
      continue;
    }
    by_topic[info.topic].push_back(&info);
  }
  std::map<storage::TopicPartition, std::shared_ptr<cluster::Partition>> hosted;
  std::set<std::string> failed_topics;
  for (const auto& [topic, infos] : by_topic) {
    std::map<std::string, std::string> configs;
    if (options_.topic_configs) {
      auto read = options_.topic_configs(topic);
      if (read.ok()) {
        configs = std::move(read).value();
      } else {
        spdlog::warn("topic {}: its configs could not be read ({}); broker defaults apply",
                     topic, read.status().ToString());
      }
    }
    std::vector<int32_t> ids;
    for (const auto* info : infos) ids.push_back(info->partition);
    auto made = partitions_->HostReplicas(topic, infos.front()->topic_id, ids, configs);
    if (!made.ok()) {
      spdlog::error("topic {}: cannot host partitions: {}", topic, made.status().ToString());
      failed_topics.insert(topic);
      continue;
    }
    for (size_t i = 0; i < ids.size(); ++i) hosted[{topic, ids[i]}] = (*made)[i];
  }

  // Then the roles. result.partitions[i] answers request.partitions[i].
  for (size_t i = 0; i < result.partitions.size(); ++i) {
    PartitionResult& r = result.partitions[i];
    const controller::PartitionLeaderInfo* info = &request.partitions[i];
    if (r.error != ErrorCode::NONE) continue;
    const storage::TopicPartition tp{r.topic, r.partition};
    auto h = hosted.find(tp);
    if (h == hosted.end()) {
      if (failed_topics.count(r.topic) > 0) r.error = ErrorCode::KAFKA_STORAGE_ERROR;
      continue;
    }
    const std::shared_ptr<cluster::Partition>& p = h->second;
    if (info->leader == options_.broker_id) {
      AssignFetcherLocked(p, std::nullopt);
      cluster::Partition::Leadership l;
      l.local_id = options_.broker_id;
      l.leader_epoch = info->leader_epoch;
      l.partition_epoch = info->partition_epoch;
      l.replicas = info->replicas;
      l.isr = info->isr;
      p->BecomeLeader(l, now);
      changes.push_back({tp, true, info->leader_epoch});
      led_[tp] = p;
      spdlog::info("{}-{}: leader at epoch {}, ISR {}", tp.topic, tp.partition, info->leader_epoch,
                   fmt::join(info->isr, ","));
    } else {
      p->BecomeFollower(info->leader, info->leader_epoch, info->partition_epoch);
      changes.push_back({tp, false, info->leader_epoch});
      led_.erase(tp);
      std::optional<LeaderEndpoint> leader;
      if (info->leader >= 0) {
        leader = EndpointOf(request, info->leader);
        if (!leader) {
          spdlog::warn("{}-{}: leader {} has no reachable endpoint in the request", tp.topic,
                       tp.partition, info->leader);
        }
      }
      AssignFetcherLocked(p, leader);
      spdlog::info("{}-{}: follower of broker {} at epoch {}", tp.topic, tp.partition,
                   info->leader, info->leader_epoch);
    }
    applied_epoch_[tp] = info->leader_epoch;
  }
  if (request.full) RemoveStrayLocked(request, &changes);
  DropIdleFetchersLocked();
  lock.Unlock();
  NotifyRoleChanges(changes);
  return result;
}

void ReplicaManager::RemoveStrayLocked(const controller::LeaderAndIsrRequest& request,
                                       std::vector<RoleChange>* changes) {
  std::set<storage::TopicPartition> assigned;
  for (const controller::PartitionLeaderInfo& info : request.partitions) {
    if (Contains(info.replicas, options_.broker_id)) assigned.insert({info.topic, info.partition});
  }
  std::map<std::string, std::vector<int32_t>> stray;
  for (const storage::TopicPartition& tp : partitions_->UnassignedReplicas(assigned)) {
    StopServingLocked(tp, std::nullopt, changes);
    stray[tp.topic].push_back(tp.partition);
  }
  for (const auto& [topic, ids] : stray) {
    spdlog::warn("topic {}: partitions [{}] are on disk but the controller assigns them to "
                 "other brokers or to none (deleted or moved while this broker was away); "
                 "deleting them",
                 topic, fmt::join(ids, ","));
    Status s = partitions_->StopReplicas(topic, ids, /*delete_logs=*/true);
    if (!s.ok()) spdlog::error("topic {}: deleting stray logs failed: {}", topic, s.ToString());
  }
}

ApplyResult ReplicaManager::ApplyStopReplica(const controller::StopReplicaRequest& request) {
  ApplyResult result;
  std::vector<RoleChange> changes;
  MutexLock lock(&mu_);
  if (request.controller_epoch < controller_epoch_) {
    result.error = ErrorCode::STALE_CONTROLLER_EPOCH;
    return result;
  }
  controller_epoch_ = request.controller_epoch;
  std::map<std::pair<std::string, bool>, std::vector<int32_t>> stops;  // (topic, delete)
  for (const controller::StopReplicaPartition& s : request.partitions) {
    PartitionResult& r = result.partitions.emplace_back();
    r.topic = s.topic;
    r.partition = s.partition;
    const storage::TopicPartition tp{s.topic, s.partition};
    auto applied = applied_epoch_.find(tp);
    if (s.leader_epoch != controller::kEpochDuringDelete && applied != applied_epoch_.end() &&
        s.leader_epoch < applied->second) {
      r.error = ErrorCode::FENCED_LEADER_EPOCH;
      continue;
    }
    StopServingLocked(tp, s.leader_epoch, &changes);
    stops[{s.topic, s.delete_partition}].push_back(s.partition);
  }
  for (const auto& [key, ids] : stops) {
    Status s = partitions_->StopReplicas(key.first, ids, key.second);
    if (s.ok()) continue;
    spdlog::error("topic {}: stopping replicas failed: {}", key.first, s.ToString());
    for (PartitionResult& r : result.partitions) {
      if (r.topic == key.first) r.error = ErrorCode::KAFKA_STORAGE_ERROR;
    }
  }
  DropIdleFetchersLocked();
  lock.Unlock();
  NotifyRoleChanges(changes);
  return result;
}

void ReplicaManager::StopServingLocked(const storage::TopicPartition& tp,
                                       std::optional<int32_t> leader_epoch,
                                       std::vector<RoleChange>* changes) {
  if (auto p = partitions_->Get(tp.topic, tp.partition)) AssignFetcherLocked(p, std::nullopt);
  if (auto led = led_.find(tp); led != led_.end()) {
    changes->push_back({tp, false, leader_epoch.value_or(led->second->leader_epoch())});
    led_.erase(led);
  }
  applied_epoch_.erase(tp);
}

void ReplicaManager::NotifyRoleChanges(const std::vector<RoleChange>& changes) {
  if (!options_.on_leadership) return;
  for (const RoleChange& c : changes) options_.on_leadership(c.tp, c.is_leader, c.leader_epoch);
}

void ReplicaManager::CheckIsr() {
  std::vector<std::shared_ptr<cluster::Partition>> led;
  {
    MutexLock lock(&mu_);
    for (const auto& [tp, p] : led_) led.push_back(p);
  }
  if (!options_.alter_partition) return;
  const int64_t now = options_.clock ? options_.clock() : SteadyMs();
  std::vector<IsrChange> changes;
  std::vector<std::shared_ptr<cluster::Partition>> changed;
  for (const auto& p : led) {
    std::optional<std::vector<int32_t>> isr = p->IsrToShrink(now, options_.replica_lag_time_max_ms);
    if (!isr) isr = p->IsrToExpand(now, options_.replica_lag_time_max_ms);
    if (!isr) continue;
    changes.push_back(IsrChange{p->tp().topic, p->tp().partition, p->leader_epoch(),
                                p->partition_epoch(), std::move(*isr)});
    changed.push_back(p);
  }
  if (changes.empty()) return;
  auto answers = options_.alter_partition(changes);
  if (!answers.ok()) {
    spdlog::warn("AlterPartition for {} partition(s) failed: {}", changes.size(),
                 answers.status().ToString());
    return;
  }
  for (size_t i = 0; i < changes.size() && i < answers->size(); ++i) {
    const IsrChangeResult& a = (*answers)[i];
    const IsrChange& c = changes[i];
    if (a.error != ErrorCode::NONE) {
      spdlog::info("{}-{}: the controller refused ISR {} ({})", c.topic, c.partition,
                   fmt::join(c.new_isr, ","), static_cast<int>(a.error));
      continue;
    }
    spdlog::info("{}-{}: ISR now {} (partition epoch {})", c.topic, c.partition,
                 fmt::join(a.isr, ","), a.partition_epoch);
    {
      MutexLock lock(&mu_);
      (a.isr.size() < changed[i]->isr_size() ? isr_shrinks_ : isr_expands_) += 1;
    }
    changed[i]->ApplyIsr(a.leader_epoch, a.isr, a.partition_epoch, now);
  }
}

void ReplicaManager::ReapRetiredFetchers() {
  std::vector<std::unique_ptr<ReplicaFetcher>> retired;
  {
    MutexLock lock(&mu_);
    retired.swap(retired_);
  }
  retired.clear();  // Each destructor joins its thread.
}

void ReplicaManager::RunIsrThread() {
  while (true) {
    {
      MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + options_.isr_check_interval;
      while (!stop_ && wake_.WaitUntil(&mu_, deadline)) {
      }
      if (stop_) return;
    }
    ReapRetiredFetchers();
    CheckIsr();
  }
}

}  // namespace sluice::replication
