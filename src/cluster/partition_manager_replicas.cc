// PartitionManager's replicas of cluster topics: the partitions a
// controller assigns to this broker (partition_manager.h, "Replicas a
// controller assigns").
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/partition_manager.h"
#include "cluster/partition_metadata_file.h"

namespace sluice::cluster {
namespace {

enum class Recorded { kThis, kNone, kAnother };

// Which topic the partition.metadata of `log` names, as against `id`.
// kNone too when the request carries no id, or the file is unreadable (the
// log is adopted and the file written again; a log is not deleted on a
// guess).
Result<Recorded> RecordedTopic(storage::FileSystem* fs, const storage::Log& log,
                               const TopicId& id) {
  if (id == TopicId{}) return Recorded::kNone;
  Result<TopicId> recorded = ReadPartitionMetadata(fs, log.dir());
  if (recorded.ok()) return *recorded == id ? Recorded::kThis : Recorded::kAnother;
  if (recorded.status().IsNotFound()) return Recorded::kNone;
  if (recorded.status().IsCorruption()) {
    spdlog::warn("{}; the log is kept as the topic's", recorded.status().ToString());
    return Recorded::kNone;
  }
  return recorded.status();
}

}  // namespace

Result<std::vector<std::shared_ptr<Partition>>> PartitionManager::HostReplicas(
    const std::string& topic, const TopicId& id, const std::vector<int32_t>& partitions,
    const std::map<std::string, std::string>& configs) {
  MutexLock lock(&change_mu_);
  if (topics_->Find(topic)) {
    return Status::InvalidArgument(
        fmt::format("topic {} is in this broker's own topic table, not the cluster's", topic));
  }
  auto resolved = config::ResolveTopicConfig(broker_, configs);
  if (!resolved.ok()) return resolved.status();
  const storage::LogConfig log_config = ToLogConfig(*resolved);
  std::shared_ptr<const TopicState> current = FindState(topic);
  auto state = std::make_shared<TopicState>();
  state->replicated = true;
  state->info.name = topic;
  state->info.id = id;
  state->info.configs = configs;
  state->config = *resolved;
  if (current) state->partitions = current->partitions;
  auto& parts = state->partitions;
  for (const auto& p : parts) {
    if (p) p->log().UpdateConfig(log_config);
  }
  std::map<int32_t, std::shared_ptr<storage::Log>> logs;
  std::vector<storage::TopicPartition> missing;
  std::vector<int32_t> unrecorded;  // Logs without partition.metadata (yet).
  for (int32_t p : partitions) {
    if (p < 0) return Status::InvalidArgument(fmt::format("partition {} of {}", p, topic));
    if (static_cast<size_t>(p) < parts.size() && parts[static_cast<size_t>(p)]) continue;
    if (logs.count(p) > 0) continue;
    storage::TopicPartition tp{topic, p};
    std::shared_ptr<storage::Log> log = logs_->Get(tp);
    if (log) {
      Result<Recorded> recorded = RecordedTopic(logs_->fs(), *log, id);
      if (!recorded.ok()) return recorded.status();
      if (*recorded == Recorded::kAnother) {
        spdlog::warn("{}: the log on disk is an earlier topic's of the same name; deleting it",
                     tp.DirName());
        SLUICE_RETURN_IF_ERROR(logs_->Delete(tp));
        log = nullptr;
      } else if (*recorded == Recorded::kNone) {
        unrecorded.push_back(p);
      }
    }
    if (log) {
      log->UpdateConfig(log_config);  // Opened at start-up with the broker defaults.
      logs[p] = std::move(log);
    } else {
      logs[p] = nullptr;
      unrecorded.push_back(p);
      missing.push_back(std::move(tp));
    }
  }
  if (!missing.empty()) {
    auto created = logs_->CreateMany(missing, log_config);
    if (!created.ok()) return created.status();
    for (size_t i = 0; i < missing.size(); ++i) logs[missing[i].partition] = std::move((*created)[i]);
  }
  if (id != TopicId{}) {
    for (int32_t p : unrecorded) {
      SLUICE_RETURN_IF_ERROR(WritePartitionMetadata(logs_->fs(), logs[p]->dir(), id));
    }
  }
  for (auto& [p, log] : logs) {
    // A tail recovery kept past the last recovery point is synced first: a
    // replica counts only durable data (cluster/replica_set.h).
    if (log->flushed_offset() < log->log_end_offset()) SLUICE_RETURN_IF_ERROR(log->Flush());
    std::shared_ptr<Partition> partition =
        MakePartitionLocked(storage::TopicPartition{topic, p}, id, std::move(log));
    // A replica exposes only what its ISR has confirmed: its high watermark
    // starts at the log start, not at the flushed end (a single node's rule,
    // in Partition's constructor). A broker that led before a crash holds a
    // tail no follower copied; led again, it would show consumers records
    // that the next leader does not have. Its followers' fetches (leading)
    // or its leader's answers (following) move the mark up.
    partition->log().SetHighWatermark(partition->log().log_start_offset());
    // Not a leader until the controller says so: nothing may be appended
    // between publishing it and the caller's BecomeLeader.
    partition->BecomeFollower(/*leader_id=*/-1, partition->leader_epoch(), 0);
    if (parts.size() <= static_cast<size_t>(p)) parts.resize(static_cast<size_t>(p) + 1);
    parts[static_cast<size_t>(p)] = std::move(partition);
  }
  state->info.partition_count = static_cast<int32_t>(parts.size());
  std::vector<std::shared_ptr<Partition>> hosted;
  for (int32_t p : partitions) hosted.push_back(parts[static_cast<size_t>(p)]);
  Publish(topic, std::move(state));
  return hosted;
}

Status PartitionManager::StopReplicas(const std::string& topic,
                                      const std::vector<int32_t>& partitions, bool delete_logs) {
  MutexLock lock(&change_mu_);
  if (topics_->Find(topic)) return Status::Ok();  // The broker's own: not the controller's.
  std::shared_ptr<const TopicState> current = FindState(topic);
  auto next = current ? std::make_shared<TopicState>(*current) : std::make_shared<TopicState>();
  std::vector<std::shared_ptr<Partition>> stopped;
  for (int32_t p : partitions) {
    if (p < 0 || static_cast<size_t>(p) >= next->partitions.size()) continue;
    std::shared_ptr<Partition>& slot = next->partitions[static_cast<size_t>(p)];
    if (!slot) continue;
    stopped.push_back(std::move(slot));
    slot = nullptr;
  }
  const bool empty = std::all_of(next->partitions.begin(), next->partitions.end(),
                                 [](const auto& p) { return p == nullptr; });
  if (current) Publish(topic, empty ? nullptr : std::shared_ptr<const TopicState>(std::move(next)));
  auto gauges = partition_metrics_.find(topic);
  for (const std::shared_ptr<Partition>& p : stopped) {
    // Writers waiting for it are answered now, not left to time out.
    p->BecomeFollower(/*leader_id=*/-1, p->leader_epoch(), p->partition_epoch());
    if (gauges != partition_metrics_.end() &&
        static_cast<size_t>(p->tp().partition) < gauges->second.size()) {
      gauges->second[static_cast<size_t>(p->tp().partition)] = {};  // Unregisters them.
    }
  }
  if (empty && gauges != partition_metrics_.end()) partition_metrics_.erase(gauges);
  if (!delete_logs) return Status::Ok();
  // Hosted or not: a broker told to delete right after a restart has not
  // attached the logs it found on disk.
  Status first = Status::Ok();
  for (int32_t p : partitions) {
    Status s = logs_->Delete(storage::TopicPartition{topic, p});
    if (!s.ok() && !s.IsNotFound() && first.ok()) first = s;
  }
  return first;
}

Status PartitionManager::ApplyReplicaConfigs(std::string_view topic,
                                             const std::map<std::string, std::string>& configs) {
  MutexLock lock(&change_mu_);
  std::shared_ptr<const TopicState> current = FindState(topic);
  if (!current) return Status::NotFound(fmt::format("topic {} is not hosted here", topic));
  if (!current->replicated) {
    return Status::InvalidArgument(
        fmt::format("topic {} is in this broker's own topic table, not the cluster's", topic));
  }
  if (current->info.configs == configs) return Status::Ok();
  auto resolved = config::ResolveTopicConfig(broker_, configs);
  if (!resolved.ok()) return resolved.status();
  auto next = std::make_shared<TopicState>(*current);
  next->info.configs = configs;
  next->config = *resolved;
  const storage::LogConfig log_config = ToLogConfig(*resolved);
  for (const auto& p : next->partitions) {
    if (p) p->log().UpdateConfig(log_config);
  }
  const std::string name = next->info.name;
  Publish(name, std::move(next));
  return Status::Ok();
}

std::vector<storage::TopicPartition> PartitionManager::UnassignedReplicas(
    const std::set<storage::TopicPartition>& assigned) {
  MutexLock lock(&change_mu_);
  std::vector<storage::TopicPartition> out;
  for (const auto& [tp, log] : logs_->Logs()) {
    if (assigned.contains(tp) || topics_->Find(tp.topic)) continue;
    out.push_back(tp);
  }
  return out;
}

}  // namespace sluice::cluster
