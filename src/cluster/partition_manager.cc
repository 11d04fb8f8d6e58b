#include "cluster/partition_manager.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/meta_properties.h"
#include "cluster/topic_name.h"

namespace sluice::cluster {
namespace {

constexpr int32_t kMaxPartitions = 100000;
// Enough tail to hold the last five batches of every active producer.
constexpr uint64_t kProducerStateScanBytes = 64 << 20;

}  // namespace

storage::LogConfig ToLogConfig(const config::TopicConfig& t) {
  storage::LogConfig c;
  c.segment_bytes = t.segment_bytes;
  c.segment_ms = t.segment_ms;
  c.retention_ms = t.cleanup_delete ? t.retention_ms : -1;
  c.retention_bytes = t.cleanup_delete ? t.retention_bytes : -1;
  c.flush_messages = t.flush_messages;
  c.flush_ms = t.flush_ms;
  c.index_interval_bytes = t.index_interval_bytes;
  c.segment_index_bytes = t.segment_index_bytes;
  c.max_message_bytes = t.max_message_bytes;
  c.compact = t.cleanup_compact;
  c.delete_retention_ms = t.delete_retention_ms;
  c.min_cleanable_dirty_ratio = t.min_cleanable_dirty_ratio;
  c.min_compaction_lag_ms = t.min_compaction_lag_ms;
  c.max_compaction_lag_ms = t.max_compaction_lag_ms;
  return c;
}

PartitionManager::PartitionManager(const config::BrokerConfig& broker,
                                   std::unique_ptr<TopicTable> topics,
                                   std::unique_ptr<storage::LogManager> logs,
                                   metrics::BrokerMetrics* metrics)
    : broker_(broker),
      topics_(std::move(topics)),
      logs_(std::move(logs)),
      flusher_(Flusher::kDefaultSyncThreads, broker.GetInt("sluice.log.flush.group.min.partitions"),
               static_cast<uint64_t>(broker.GetLong("sluice.log.preallocate.bytes"))),
      metrics_(metrics),
      view_(std::make_shared<const TopicMap>()) {}

PartitionManager::~PartitionManager() {
  worker_.Stop();
  if (cleaner_) cleaner_->Stop();
  if (retention_) retention_->Stop();
  flusher_.Stop();
}

Result<std::unique_ptr<PartitionManager>> PartitionManager::Open(
    const config::BrokerConfig& broker, metrics::BrokerMetrics* metrics, storage::FileSystem* fs) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& d : broker.log_dirs()) dirs.emplace_back(d);
  if (dirs.empty()) return Status::InvalidArgument("log.dirs is empty");

  auto topics = TopicTable::Open(fs, dirs.front() / kMetadataDir);
  if (!topics.ok()) return topics.status();

  auto defaults = config::ResolveTopicConfig(broker, {});
  if (!defaults.ok()) return defaults.status();
  storage::LogManagerOptions options;
  options.fs = fs;
  options.default_config = ToLogConfig(*defaults);
  options.known_entries = {kMetaPropertiesFile, kMetadataDir};
  const int max_open_files = broker.GetInt("sluice.log.max.open.files");
  options.max_open_files = max_open_files > 0 ? static_cast<size_t>(max_open_files)
                                              : storage::DefaultFileCacheCapacity();
  spdlog::info("file cache: at most {} segment files open at once{}", options.max_open_files,
               max_open_files > 0 ? "" : " (from the open-file limit)");
  auto logs = storage::LogManager::Open(dirs, std::move(options));
  if (!logs.ok()) return logs.status();
  for (const auto& note : (*logs)->notes()) spdlog::info("storage: {}", note);

  // A deletion is recorded before the files go: finish the ones a crash
  // interrupted, before the table forgets them and before the name can be
  // used again (a new topic must never find the old one's data).
  const auto deleted = (*topics)->DeletedTopics();
  for (const auto& [tp, log] : (*logs)->Logs()) {
    if (!deleted.contains(tp.topic)) continue;
    spdlog::info("removing {}: its topic's deletion was interrupted", tp.DirName());
    SLUICE_RETURN_IF_ERROR((*logs)->Delete(tp));
  }
  SLUICE_RETURN_IF_ERROR((*topics)->CompactIfLong());

  std::unique_ptr<PartitionManager> pm(
      new PartitionManager(broker, std::move(topics).value(), std::move(logs).value(), metrics));
  {
    MutexLock lock(&pm->change_mu_);
    for (const TopicInfo& info : pm->topics_->List()) {
      auto state = pm->BuildTopicLocked(info, nullptr);
      if (!state.ok()) return state.status();
      pm->Publish(info.name, std::move(state).value());
    }
  }
  if (broker.GetBool("log.cleaner.enable")) {
    storage::LogCleanerOptions co;
    co.threads = std::max(1, broker.GetInt("log.cleaner.threads"));
    co.backoff_ms = broker.GetLong("log.cleaner.backoff.ms");
    co.dedupe_buffer_bytes = static_cast<size_t>(
        std::max<int64_t>(broker.GetLong("log.cleaner.dedupe.buffer.size"), 1 << 20));
    pm->cleaner_ = std::make_unique<storage::LogCleaner>(pm->logs_.get(), co);
    pm->cleaner_->Start();
    if (metrics != nullptr) {
      pm->cleaner_metrics_ = metrics->RegisterLogCleaner([cleaner = pm->cleaner_.get()] {
        const storage::LogCleanerStats st = cleaner->stats();
        return metrics::BrokerMetrics::CleanerTotals{.passes = st.passes,
                                                     .segments_rewritten = st.segments_rewritten,
                                                     .segments_deleted = st.segments_deleted,
                                                     .bytes_read = st.bytes_read,
                                                     .bytes_before = st.bytes_before,
                                                     .bytes_after = st.bytes_after,
                                                     .records_removed = st.records_removed,
                                                     .tombstones_removed = st.tombstones_removed,
                                                     .errors = st.errors};
      });
    }
  }
  RetentionSchedulerOptions ro;
  ro.retention_check_interval_ms = broker.GetLong("log.retention.check.interval.ms");
  ro.flush_check_interval_ms = broker.GetLong("log.flush.scheduler.interval.ms");
  ro.recovery_point_checkpoint_interval_ms = broker.GetInt("log.flush.offset.checkpoint.interval.ms");
  pm->retention_ = std::make_unique<RetentionScheduler>(pm->logs_.get(), ro, metrics);
  pm->retention_->Start();
  return pm;
}

std::shared_ptr<const PartitionManager::TopicState> PartitionManager::FindState(
    std::string_view name) const {
  std::shared_ptr<const TopicMap> view = View();
  auto it = view->find(name);
  return it == view->end() ? nullptr : it->second;
}

void PartitionManager::Publish(const std::string& name, std::shared_ptr<const TopicState> state) {
  auto next = std::make_shared<TopicMap>(*View());
  if (state) {
    next->insert_or_assign(name, std::move(state));
  } else {
    next->erase(name);
  }
  view_.store(std::move(next), std::memory_order_release);
}

Result<std::shared_ptr<const PartitionManager::TopicState>> PartitionManager::BuildTopicLocked(
    const TopicInfo& info, const TopicState* current) {
  auto topic_config = config::ResolveTopicConfig(broker_, info.configs);
  if (!topic_config.ok()) return topic_config.status();
  const storage::LogConfig log_config = ToLogConfig(*topic_config);
  auto state = std::make_shared<TopicState>();
  state->info = info;
  state->config = *topic_config;
  if (current != nullptr) state->partitions = current->partitions;
  auto& parts = state->partitions;
  // Logs that exist (opened at start-up) get the topic's config; the missing
  // ones are created together, with one directory sync for all.
  std::map<int32_t, std::shared_ptr<storage::Log>> logs;
  std::vector<storage::TopicPartition> missing;
  for (int32_t p = static_cast<int32_t>(parts.size()); p < info.partition_count; ++p) {
    storage::TopicPartition tp{info.name, p};
    if (std::shared_ptr<storage::Log> log = logs_->Get(tp)) {
      log->UpdateConfig(log_config);  // Opened at start-up with the broker defaults.
      logs[p] = std::move(log);
    } else {
      missing.push_back(std::move(tp));
    }
  }
  if (!missing.empty()) {
    Result<std::vector<std::shared_ptr<storage::Log>>> created = logs_->CreateMany(missing, log_config);
    if (!created.ok()) return created.status();
    for (size_t i = 0; i < missing.size(); ++i) logs[missing[i].partition] = std::move((*created)[i]);
  }
  for (int32_t p = static_cast<int32_t>(parts.size()); p < info.partition_count; ++p) {
    storage::TopicPartition tp{info.name, p};
    std::shared_ptr<storage::Log> log = std::move(logs[p]);
    if (log->flushed_offset() < log->log_end_offset()) {
      // Recovery kept a tail written after the last recovery point; sync it
      // so the high watermark (the flushed offset) covers what is on disk.
      SLUICE_RETURN_IF_ERROR(log->Flush());
    }
    std::shared_ptr<Partition> partition = MakePartitionLocked(tp, info.id, std::move(log));
    parts.push_back(std::move(partition));
  }
  return std::shared_ptr<const TopicState>(std::move(state));
}

std::shared_ptr<Partition> PartitionManager::MakePartitionLocked(const storage::TopicPartition& tp,
                                                                const TopicId& id,
                                                                std::shared_ptr<storage::Log> log) {
  std::weak_ptr<storage::Log> weak_log = log;  // For the gauges below.
  auto partition = std::make_shared<Partition>(tp, id, std::move(log), /*leader_epoch=*/0);
  Status s = partition->RebuildProducerState(kProducerStateScanBytes);
  if (!s.ok()) spdlog::warn("{}: producer state not rebuilt: {}", tp.DirName(), s.ToString());
  if (metrics_ != nullptr) {
    // Scraped on the HTTP thread; the log may be closed or deleted only
    // after these handles are dropped (DeleteTopic, StopReplicas, Close).
    auto& gauges = partition_metrics_[tp.topic];
    const auto index = static_cast<size_t>(tp.partition);
    if (gauges.size() <= index) gauges.resize(index + 1);
    gauges[index] = metrics_->RegisterPartition(
        tp.topic, tp.partition,
        [weak_log] {
          auto l = weak_log.lock();
          return l ? static_cast<double>(l->log_end_offset()) : 0.0;
        },
        [weak_log] {
          auto l = weak_log.lock();
          return l ? static_cast<double>(l->size_bytes()) : 0.0;
        });
  }
  return partition;
}

Result<TopicInfo> PartitionManager::CreateTopic(const std::string& name, int32_t partitions,
                                                int16_t replication_factor,
                                                const std::map<std::string, std::string>& configs,
                                                bool validate_only) {
  SLUICE_RETURN_IF_ERROR(ValidateTopicName(name));
  if (partitions <= 0 || partitions > kMaxPartitions) {
    return Status::InvalidArgument(
        fmt::format("number of partitions must be between 1 and {}; got {}", kMaxPartitions,
                    partitions));
  }
  if (replication_factor != 1) {
    return Status::InvalidArgument(fmt::format(
        "replication factor {} is larger than the 1 available broker", replication_factor));
  }
  SLUICE_RETURN_IF_ERROR(config::ValidateTopicOverrides(configs));
  auto resolved = config::ResolveTopicConfig(broker_, configs);
  if (!resolved.ok()) return resolved.status();

  MutexLock lock(&change_mu_);
  if (topics_->Find(name)) {
    return Status::AlreadyExists(fmt::format("Topic '{}' already exists.", name));
  }
  const std::string unified = UnifyCollidingChars(name);
  for (const TopicInfo& t : topics_->List()) {
    if (UnifyCollidingChars(t.name) == unified) {
      return Status::InvalidArgument(fmt::format(
          "Topic '{}' collides with existing topic '{}' ('.' and '_' are the same in metric names)",
          name, t.name));
    }
  }
  SLUICE_RETURN_IF_ERROR(CheckPartitionLimitLocked(name, partitions));
  TopicInfo info{name, NewTopicId(), partitions, replication_factor, configs};
  if (validate_only) return info;
  SLUICE_RETURN_IF_ERROR(topics_->CreateTopic(info));
  auto state = BuildTopicLocked(info, nullptr);
  if (!state.ok()) {
    // Never half a topic: the record goes (first, as in DeleteTopic, so a
    // crash meanwhile leaves directories that start-up removes), then
    // whatever logs were made.
    partition_metrics_.erase(name);
    Status undone = topics_->DeleteTopic(name);
    if (undone.ok()) RemoveLogsLocked(name, 0, partitions);
    return FailedChange(fmt::format("Topic '{}' was not created", name), state.status(), undone);
  }
  Publish(name, std::move(state).value());
  return info;
}

Status PartitionManager::CheckPartitionLimitLocked(std::string_view topic, int32_t more) const {
  const int64_t limit = broker_.GetInt("sluice.broker.max.partitions");
  int64_t held = 0;
  for (const TopicInfo& t : topics_->List()) held += t.partition_count;
  if (held + more <= limit) return Status::Ok();
  return Status::OutOfRange(fmt::format(
      "{} more partitions for topic '{}' would make {} on this broker, past its limit of {} "
      "(sluice.broker.max.partitions); it holds {} now.",
      more, topic, held + more, limit, held));
}

void PartitionManager::RemoveLogsLocked(std::string_view topic, int32_t from, int32_t to) {
  for (int32_t p = from; p < to; ++p) {
    const storage::TopicPartition tp{std::string(topic), p};
    Status s = logs_->Delete(tp);
    if (!s.ok() && !s.IsNotFound()) spdlog::warn("deleting {}: {}", tp.DirName(), s.ToString());
  }
}

Status PartitionManager::FailedChange(const std::string& what, const Status& cause,
                                      const Status& undone) {
  // The cause in full (a file path, an errno) is for the operator's log;
  // the client learns what happened, why in a word, and what remains.
  spdlog::error("{}: {}", what, cause.ToString());
  const std::string& m = cause.message();
  const size_t colon = m.rfind(": ");  // "<path>: <strerror>" from Status::FromErrno
  const std::string why =
      colon == std::string::npos ? std::string(StatusCodeName(cause.code())) : m.substr(colon + 2);
  if (!undone.ok()) {
    spdlog::error("{}: undoing it failed too ({}); the next start completes it", what,
                  undone.ToString());
    return Status::IOError(fmt::format(
        "{}: the broker could not create its partition logs ({}) nor undo the change; it "
        "completes them when it restarts",
        what, why));
  }
  return Status::IOError(fmt::format(
      "{}: the broker could not create its partition logs ({}); nothing of it was kept", what,
      why));
}

Status PartitionManager::DeleteTopic(std::string_view name) {
  MutexLock lock(&change_mu_);
  std::optional<TopicInfo> info = topics_->Find(name);
  if (!info) return Status::NotFound(fmt::format("topic {} does not exist", name));
  SLUICE_RETURN_IF_ERROR(topics_->DeleteTopic(name));
  Publish(info->name, nullptr);
  if (auto m = partition_metrics_.find(name); m != partition_metrics_.end()) {
    partition_metrics_.erase(m);  // Unregisters the gauges before the logs go.
  }
  // By the table's count rather than the published partitions: a create
  // that failed half-way left logs that were never published.
  RemoveLogsLocked(info->name, 0, info->partition_count);
  return Status::Ok();
}

Status PartitionManager::CreatePartitions(std::string_view name, int32_t total,
                                          bool validate_only) {
  MutexLock lock(&change_mu_);
  std::shared_ptr<const TopicState> current = FindState(name);
  if (!current) return Status::NotFound(fmt::format("topic {} does not exist", name));
  TopicInfo info = current->info;
  if (total <= info.partition_count) {
    return Status::InvalidArgument(fmt::format(
        "Topic currently has {} partitions, which is higher than the requested {}.",
        info.partition_count, total));
  }
  if (total > kMaxPartitions) {
    return Status::InvalidArgument(fmt::format("at most {} partitions", kMaxPartitions));
  }
  SLUICE_RETURN_IF_ERROR(CheckPartitionLimitLocked(name, total - info.partition_count));
  if (validate_only) return Status::Ok();
  const int32_t old_count = info.partition_count;
  SLUICE_RETURN_IF_ERROR(topics_->SetPartitionCount(name, total));
  info.partition_count = total;
  auto state = BuildTopicLocked(info, current.get());
  if (!state.ok()) {
    // None of the new partitions stays. Their logs go first: a crash before
    // the count is reverted leaves the table's count, whose missing logs
    // start-up creates (all new partitions there, empty), never partitions
    // past the count.
    if (auto m = partition_metrics_.find(name); m != partition_metrics_.end()) {
      m->second.resize(std::min(m->second.size(), static_cast<size_t>(old_count)));
    }
    RemoveLogsLocked(info.name, old_count, total);
    Status undone = topics_->RevertPartitionCount(name, old_count);
    return FailedChange(fmt::format("Partitions {}..{} of topic '{}' were not created", old_count,
                                    total - 1, name),
                        state.status(), undone);
  }
  Publish(info.name, std::move(state).value());
  return Status::Ok();
}

Status PartitionManager::SetTopicConfigs(std::string_view name,
                                         const std::map<std::string, std::string>& configs,
                                         bool validate_only) {
  SLUICE_RETURN_IF_ERROR(config::ValidateTopicOverrides(configs));
  MutexLock lock(&change_mu_);
  std::shared_ptr<const TopicState> current = FindState(name);
  if (!current) return Status::NotFound(fmt::format("topic {} does not exist", name));
  return SetTopicConfigsLocked(*current, configs, validate_only);
}

Status PartitionManager::UpdateTopicConfigs(
    std::string_view name, const std::function<Status(std::map<std::string, std::string>&)>& edit,
    bool validate_only) {
  MutexLock lock(&change_mu_);
  std::shared_ptr<const TopicState> current = FindState(name);
  if (!current) return Status::NotFound(fmt::format("topic {} does not exist", name));
  std::map<std::string, std::string> configs = current->info.configs;
  SLUICE_RETURN_IF_ERROR(edit(configs));
  SLUICE_RETURN_IF_ERROR(config::ValidateTopicOverrides(configs));
  return SetTopicConfigsLocked(*current, configs, validate_only);
}

Status PartitionManager::SetTopicConfigsLocked(const TopicState& current,
                                               const std::map<std::string, std::string>& configs,
                                               bool validate_only) {
  const TopicInfo& info = current.info;
  const std::string& name = info.name;
  auto resolved = config::ResolveTopicConfig(broker_, configs);
  if (!resolved.ok()) return resolved.status();
  if (validate_only) return Status::Ok();
  for (const auto& [key, value] : info.configs) {
    if (!configs.contains(key)) SLUICE_RETURN_IF_ERROR(topics_->SetConfig(name, key, std::nullopt));
  }
  for (const auto& [key, value] : configs) {
    auto old = info.configs.find(key);
    if (old == info.configs.end() || old->second != value) {
      SLUICE_RETURN_IF_ERROR(topics_->SetConfig(name, key, value));
    }
  }
  auto next = std::make_shared<TopicState>(current);
  next->info.configs = configs;
  next->config = *resolved;
  // The logs take the new storage settings (retention, flush, segment size,
  // max.message.bytes) at once; BuildTopicLocked does the same at start-up.
  const storage::LogConfig log_config = ToLogConfig(*resolved);
  for (const auto& p : next->partitions) {
    if (p) p->log().UpdateConfig(log_config);
  }
  Publish(name, std::move(next));
  return Status::Ok();
}

std::shared_ptr<Partition> PartitionManager::Get(std::string_view topic, int32_t partition) const {
  std::shared_ptr<const TopicMap> view = View();
  auto it = view->find(topic);
  if (it == view->end() || partition < 0 ||
      static_cast<size_t>(partition) >= it->second->partitions.size()) {
    return nullptr;
  }
  return it->second->partitions[static_cast<size_t>(partition)];
}

std::optional<TopicInfo> PartitionManager::FindTopic(std::string_view name) const {
  std::shared_ptr<const TopicState> state = FindState(name);
  if (!state) return std::nullopt;
  return state->info;
}

std::vector<TopicInfo> PartitionManager::ListTopics() const {
  std::shared_ptr<const TopicMap> view = View();
  std::vector<TopicInfo> out;
  out.reserve(view->size());
  for (const auto& [name, state] : *view) out.push_back(state->info);
  return out;
}

Result<config::TopicConfig> PartitionManager::TopicConfigOf(std::string_view name) const {
  std::shared_ptr<const TopicState> state = FindState(name);
  if (!state) return Status::NotFound(fmt::format("topic {} does not exist", name));
  return state->config;
}

Status PartitionManager::Close() {
  // Changes already accepted are finished (and answered) first.
  worker_.Stop();
  // Then: a pass in progress is interrupted, not waited for. Its totals
  // stay exported until the manager is destroyed.
  if (cleaner_) {
    cleaner_->Stop();
    const storage::LogCleanerStats st = cleaner_->stats();
    spdlog::info("log cleaner: {} passes, {} records removed, {} -> {} bytes rewritten", st.passes,
                 st.records_removed, st.bytes_before, st.bytes_after);
    if (st.errors > 0) {
      spdlog::warn("log cleaner: {} failed passes, last: {}", st.errors, st.last_error);
    }
  }
  if (retention_) {
    retention_->Stop();
    const RetentionTotals rt = retention_->totals();
    spdlog::info("retention: {} rounds deleted {} segments, {} bytes", rt.rounds,
                 rt.segments_deleted, rt.bytes_deleted);
  }
  flusher_.Stop();
  MutexLock lock(&change_mu_);
  partition_metrics_.clear();
  view_.store(std::make_shared<const TopicMap>(), std::memory_order_release);
  return logs_->Close();
}

}  // namespace sluice::cluster
