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
      metrics_(metrics) {}

PartitionManager::~PartitionManager() {
  if (cleaner_) cleaner_->Stop();
  if (retention_) retention_->Stop();
  flusher_.Stop();
}

Result<std::unique_ptr<PartitionManager>> PartitionManager::Open(
    const config::BrokerConfig& broker, metrics::BrokerMetrics* metrics) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& d : broker.log_dirs()) dirs.emplace_back(d);
  if (dirs.empty()) return Status::InvalidArgument("log.dirs is empty");

  auto topics = TopicTable::Open(dirs.front() / kMetadataDir);
  if (!topics.ok()) return topics.status();

  auto defaults = config::ResolveTopicConfig(broker, {});
  if (!defaults.ok()) return defaults.status();
  storage::LogManagerOptions options;
  options.default_config = ToLogConfig(*defaults);
  options.known_entries = {kMetaPropertiesFile, kMetadataDir};
  auto logs = storage::LogManager::Open(dirs, std::move(options));
  if (!logs.ok()) return logs.status();
  for (const auto& note : (*logs)->notes()) spdlog::info("storage: {}", note);

  std::unique_ptr<PartitionManager> pm(
      new PartitionManager(broker, std::move(topics).value(), std::move(logs).value(), metrics));
  std::unique_lock lock(pm->mu_);
  for (const TopicInfo& info : pm->topics_->List()) {
    SLUICE_RETURN_IF_ERROR(pm->AttachTopicLocked(info));
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

Status PartitionManager::AttachTopicLocked(const TopicInfo& info) {
  auto topic_config = config::ResolveTopicConfig(broker_, info.configs);
  if (!topic_config.ok()) return topic_config.status();
  const storage::LogConfig log_config = ToLogConfig(*topic_config);
  topic_configs_.insert_or_assign(info.name, *topic_config);
  auto& parts = partitions_[info.name];
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
    std::weak_ptr<storage::Log> weak_log = log;  // For the gauges below.
    auto partition = std::make_shared<Partition>(tp, info.id, std::move(log), /*leader_epoch=*/0);
    Status s = partition->RebuildProducerState(kProducerStateScanBytes);
    if (!s.ok()) spdlog::warn("{}: producer state not rebuilt: {}", tp.DirName(), s.ToString());
    if (metrics_ != nullptr) {
      // Scraped on the HTTP thread; the log may be closed or deleted only
      // after these handles are dropped (DeleteTopic, Close).
      auto& gauges = partition_metrics_[info.name];
      gauges.resize(static_cast<size_t>(p));
      gauges.push_back(metrics_->RegisterPartition(
          info.name, p,
          [weak_log] {
            auto l = weak_log.lock();
            return l ? static_cast<double>(l->log_end_offset()) : 0.0;
          },
          [weak_log] {
            auto l = weak_log.lock();
            return l ? static_cast<double>(l->size_bytes()) : 0.0;
          }));
    }
    parts.push_back(std::move(partition));
  }
  return Status::Ok();
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

  std::unique_lock lock(mu_);
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
  TopicInfo info{name, NewTopicId(), partitions, replication_factor, configs};
  if (validate_only) return info;
  SLUICE_RETURN_IF_ERROR(topics_->CreateTopic(info));
  SLUICE_RETURN_IF_ERROR(AttachTopicLocked(info));
  return info;
}

Status PartitionManager::DeleteTopic(std::string_view name) {
  std::unique_lock lock(mu_);
  auto info = topics_->Find(name);
  if (!info) return Status::NotFound(fmt::format("topic {} does not exist", name));
  SLUICE_RETURN_IF_ERROR(topics_->DeleteTopic(name));
  if (auto c = topic_configs_.find(name); c != topic_configs_.end()) topic_configs_.erase(c);
  if (auto m = partition_metrics_.find(name); m != partition_metrics_.end()) {
    partition_metrics_.erase(m);  // Unregisters the gauges before the logs go.
  }
  auto it = partitions_.find(name);
  if (it != partitions_.end()) {
    for (const auto& p : it->second) {
      Status s = logs_->Delete(p->tp());
      if (!s.ok()) spdlog::warn("deleting {}: {}", p->tp().DirName(), s.ToString());
    }
    partitions_.erase(it);
  }
  return Status::Ok();
}

Status PartitionManager::CreatePartitions(std::string_view name, int32_t total,
                                          bool validate_only) {
  std::unique_lock lock(mu_);
  auto info = topics_->Find(name);
  if (!info) return Status::NotFound(fmt::format("topic {} does not exist", name));
  if (total <= info->partition_count) {
    return Status::InvalidArgument(fmt::format(
        "Topic currently has {} partitions, which is higher than the requested {}.",
        info->partition_count, total));
  }
  if (total > kMaxPartitions) {
    return Status::InvalidArgument(fmt::format("at most {} partitions", kMaxPartitions));
  }
  if (validate_only) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(topics_->SetPartitionCount(name, total));
  info->partition_count = total;
  return AttachTopicLocked(*info);
}

Status PartitionManager::SetTopicConfigs(std::string_view name,
                                         const std::map<std::string, std::string>& configs,
                                         bool validate_only) {
  SLUICE_RETURN_IF_ERROR(config::ValidateTopicOverrides(configs));
  std::unique_lock lock(mu_);
  auto info = topics_->Find(name);
  if (!info) return Status::NotFound(fmt::format("topic {} does not exist", name));
  return SetTopicConfigsLocked(*info, configs, validate_only);
}

Status PartitionManager::UpdateTopicConfigs(
    std::string_view name, const std::function<Status(std::map<std::string, std::string>&)>& edit,
    bool validate_only) {
  std::unique_lock lock(mu_);
  auto info = topics_->Find(name);
  if (!info) return Status::NotFound(fmt::format("topic {} does not exist", name));
  std::map<std::string, std::string> configs = info->configs;
  SLUICE_RETURN_IF_ERROR(edit(configs));
  SLUICE_RETURN_IF_ERROR(config::ValidateTopicOverrides(configs));
  return SetTopicConfigsLocked(*info, configs, validate_only);
}

Status PartitionManager::SetTopicConfigsLocked(const TopicInfo& info,
                                               const std::map<std::string, std::string>& configs,
                                               bool validate_only) {
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
  topic_configs_.insert_or_assign(name, *resolved);
  // The logs take the new storage settings (retention, flush, segment size,
  // max.message.bytes) at once; AttachTopicLocked does the same at start-up.
  if (auto it = partitions_.find(name); it != partitions_.end()) {
    const storage::LogConfig log_config = ToLogConfig(*resolved);
    for (const auto& p : it->second) p->log().UpdateConfig(log_config);
  }
  return Status::Ok();
}

std::shared_ptr<Partition> PartitionManager::Get(std::string_view topic, int32_t partition) const {
  std::shared_lock lock(mu_);
  auto it = partitions_.find(topic);
  if (it == partitions_.end() || partition < 0 ||
      static_cast<size_t>(partition) >= it->second.size()) {
    return nullptr;
  }
  return it->second[static_cast<size_t>(partition)];
}

Result<config::TopicConfig> PartitionManager::TopicConfigOf(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = topic_configs_.find(name);
  if (it == topic_configs_.end()) {
    return Status::NotFound(fmt::format("topic {} does not exist", name));
  }
  return it->second;
}

Status PartitionManager::Close() {
  // First: a pass in progress is interrupted, not waited for. Its totals
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
  std::unique_lock lock(mu_);
  partition_metrics_.clear();
  partitions_.clear();
  return logs_->Close();
}

}  // namespace sluice::cluster
