// PartitionManager: the topics this broker hosts and their partitions.
//
// It keeps the TopicTable (what should exist) and the storage LogManager
// (what is on disk) in step: creating a topic records it, then creates its
// partition logs; deleting removes the record first, then the files, so a
// crash in between leaves at worst orphan directories, which start-up
// reports and leaves alone rather than deleting data it does not recognise.
//
// This is the layer a controller will drive in a cluster: every change
// enters through the same calls, as a metadata record.
//
// Thread-safe. Lookups take a shared lock held only to copy a shared_ptr.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cluster/flusher.h"
#include "cluster/partition.h"
#include "cluster/retention_scheduler.h"
#include "cluster/topic_table.h"
#include "config/broker_config.h"
#include "config/topic_config.h"
#include "metrics/broker_metrics.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"

namespace sluice::cluster {

// The storage settings of a topic's logs from its effective config.
storage::LogConfig ToLogConfig(const config::TopicConfig& topic);

class PartitionManager {
 public:
  // Opens the topic table in `<first log dir>/sluice-metadata` and every
  // partition log under the log dirs; creates logs missing for known topics.
  // Starts the log cleaner (log.cleaner.enable) for compacted topics and the
  // retention scheduler (log.retention.check.interval.ms, flush.ms checks).
  // With `metrics` (optional; it must outlive the manager), every partition
  // exports its log end offset and size while it is attached, and the
  // cleaner and retention their totals.
  static Result<std::unique_ptr<PartitionManager>> Open(const config::BrokerConfig& broker,
                                                        metrics::BrokerMetrics* metrics = nullptr);
  ~PartitionManager();

  // Validates and creates a topic (name rules, partition count, replication
  // factor 1 on a single node, config overrides). With validate_only nothing
  // is written. AlreadyExists / InvalidArgument name the problem.
  Result<TopicInfo> CreateTopic(const std::string& name, int32_t partitions,
                                int16_t replication_factor,
                                const std::map<std::string, std::string>& configs,
                                bool validate_only);
  Status DeleteTopic(std::string_view name);
  Status CreatePartitions(std::string_view name, int32_t total, bool validate_only);
  // Replaces the topic's overrides (AlterConfigs semantics); validated first.
  Status SetTopicConfigs(std::string_view name, const std::map<std::string, std::string>& configs,
                         bool validate_only);
  // Read-modify-write of the overrides (IncrementalAlterConfigs): `edit`
  // turns the current overrides into the new ones under the manager's lock,
  // so concurrent edits of one topic are not lost; its error is returned as
  // is. The result is validated and written as by SetTopicConfigs.
  Status UpdateTopicConfigs(std::string_view name,
                            const std::function<Status(std::map<std::string, std::string>&)>& edit,
                            bool validate_only);

  std::shared_ptr<Partition> Get(std::string_view topic, int32_t partition) const;
  std::optional<TopicInfo> FindTopic(std::string_view name) const { return topics_->Find(name); }
  std::vector<TopicInfo> ListTopics() const { return topics_->List(); }
  // The effective, typed configuration of a topic (broker defaults +
  // overrides), resolved when the topic attaches or its configs change: the
  // produce path asks for it per partition of every request.
  Result<config::TopicConfig> TopicConfigOf(std::string_view name) const;

  const config::BrokerConfig& broker_config() const { return broker_; }
  Flusher& flusher() { return flusher_; }
  storage::LogManager& logs() { return *logs_; }

  // Stops the log cleaner and the retention scheduler, flushes every
  // partition and closes the logs (writes the clean-shutdown markers).
  // Later calls fail.
  Status Close();

 private:
  PartitionManager(const config::BrokerConfig& broker, std::unique_ptr<TopicTable> topics,
                   std::unique_ptr<storage::LogManager> logs, metrics::BrokerMetrics* metrics);
  // Opens or creates the partitions of `info`. REQUIRES: mu_ held exclusively.
  Status AttachTopicLocked(const TopicInfo& info);
  // Validates and writes `configs` as the overrides of `info`'s topic and
  // hands the logs their new settings. REQUIRES: mu_ held exclusively.
  Status SetTopicConfigsLocked(const TopicInfo& info,
                               const std::map<std::string, std::string>& configs,
                               bool validate_only);

  const config::BrokerConfig& broker_;
  std::unique_ptr<TopicTable> topics_;
  std::unique_ptr<storage::LogManager> logs_;
  Flusher flusher_;
  std::unique_ptr<storage::LogCleaner> cleaner_;  // null when log.cleaner.enable=false
  std::unique_ptr<RetentionScheduler> retention_;

  metrics::BrokerMetrics* const metrics_;  // May be null.
  // Reads cleaner_; declared after it so that it is dropped first.
  metrics::BrokerMetrics::CleanerMetrics cleaner_metrics_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<Partition>>, std::less<>> partitions_;
  std::map<std::string, config::TopicConfig, std::less<>> topic_configs_;  // see TopicConfigOf
  // The gauges of each topic's partitions (by index); dropped, which
  // unregisters them, before the partitions' logs are deleted or closed.
  std::map<std::string, std::vector<metrics::BrokerMetrics::PartitionMetrics>, std::less<>>
      partition_metrics_;
};

}  // namespace sluice::cluster
