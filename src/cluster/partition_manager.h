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
// Thread-safe. Changes are serialized by one mutex held through their disk
// I/O; lookups (the produce and fetch path) never take it: they read an
// immutable map of the topics, which a change replaces by an atomic pointer
// store once its files are in place. So a create of thousands of partitions
// holds up other changes, never a produce or fetch. The API handlers run the
// changes on the manager's MetadataWorker thread, off the network shards.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "cluster/flusher.h"
#include "cluster/metadata_worker.h"
#include "cluster/partition.h"
#include "cluster/retention_scheduler.h"
#include "cluster/topic_table.h"
#include "config/broker_config.h"
#include "config/topic_config.h"
#include "metrics/broker_metrics.h"
#include "storage/file.h"
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
  // cleaner and retention their totals. Every file (logs, topic table) is
  // reached through `fs`, which must outlive the manager.
  // Partition directories of topics whose deletion was recorded but not
  // finished (a crash in between) are removed here.
  static Result<std::unique_ptr<PartitionManager>> Open(
      const config::BrokerConfig& broker, metrics::BrokerMetrics* metrics = nullptr,
      storage::FileSystem* fs = storage::FileSystem::Default());
  ~PartitionManager();

  // The changes below block on disk I/O (call them off the network shards,
  // e.g. through RunMetadataTask); lookups meanwhile see the state before
  // the change until it is complete.
  //
  // Validates and creates a topic (name rules, partition count, replication
  // factor 1 on a single node, config overrides). With validate_only nothing
  // is written. AlreadyExists / InvalidArgument name the problem. The topic
  // is recorded, then its logs are created, then it becomes visible. If a
  // log cannot be made, the record and the logs made are removed again: a
  // failed create leaves nothing (the same for CreatePartitions).
  // OutOfRange (and no other change returns it) when the broker would hold
  // more than sluice.broker.max.partitions partitions; checked with
  // validate_only too.
  Result<TopicInfo> CreateTopic(const std::string& name, int32_t partitions,
                                int16_t replication_factor,
                                const std::map<std::string, std::string>& configs,
                                bool validate_only);
  // Records the deletion, hides the topic from lookups, then removes its
  // files (holders of its partitions see Aborted).
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

  // --- Replicas a controller assigns (cluster mode) ---
  // In a cluster the topics live in ZooKeeper, not in this broker's topic
  // table: the controller says which partitions this broker holds, and
  // their logs (kept on disk across restarts, opened at start-up like any)
  // are attached here. Such a topic is published with only the hosted
  // partitions (Get answers null for the others); it is never written to
  // the topic table.
  //
  // Attaches (opening or creating their logs) `partitions` of `topic`,
  // with `configs` as its overrides; partitions already hosted are kept
  // (the new configs apply to them). Returns the hosted partitions, new
  // ones as followers of no known leader (the caller makes each a leader or
  // a follower). InvalidArgument for a topic of this broker's own table.
  // Each log records `id` (partition_metadata_file.h); a log on disk that
  // records another id is an earlier topic's of the same name, deleted
  // and made anew. An all-zero `id` checks and records nothing.
  Result<std::vector<std::shared_ptr<Partition>>> HostReplicas(
      const std::string& topic, const TopicId& id, const std::vector<int32_t>& partitions,
      const std::map<std::string, std::string>& configs);
  // Detaches `partitions` of `topic` (StopReplica); with `delete_logs` their
  // logs are deleted (also those on disk but not attached), otherwise
  // closed and kept. A topic left with no partition disappears. Topics of
  // this broker's own table are ignored.
  Status StopReplicas(const std::string& topic, const std::vector<int32_t>& partitions,
                      bool delete_logs);
  // The partitions whose logs are on this broker's disk, attached or not,
  // of topics not in its own table, that are not in `assigned`: with a
  // controller's full LeaderAndIsr as `assigned`, the stray replicas of
  // topics deleted or moved away while this broker was not listening.
  std::vector<storage::TopicPartition> UnassignedReplicas(
      const std::set<storage::TopicPartition>& assigned);
  // Makes `configs` the overrides of cluster topic `topic` (they changed in
  // ZooKeeper: broker/config_watcher.h); its hosted partitions take
  // them at once, as SetTopicConfigs does on a single node. NotFound if no
  // partition of it is hosted here; InvalidArgument for a topic of this
  // broker's own table, or overrides that do not resolve (the topic keeps
  // its config).
  Status ApplyReplicaConfigs(std::string_view topic,
                             const std::map<std::string, std::string>& configs);

  // Runs `task` on the metadata thread, after every task submitted before
  // it: how API handlers apply the changes above without blocking a shard.
  // After Close, runs it at once on the caller's thread.
  void RunMetadataTask(std::function<void()> task) { worker_.Submit(std::move(task)); }

  // Lookups: never wait for a change or its I/O (see the top of this file).
  std::shared_ptr<Partition> Get(std::string_view topic, int32_t partition) const;
  std::optional<TopicInfo> FindTopic(std::string_view name) const;
  std::vector<TopicInfo> ListTopics() const;
  // The effective, typed configuration of a topic (broker defaults +
  // overrides), resolved when the topic attaches or its configs change: the
  // produce path asks for it per partition of every request.
  Result<config::TopicConfig> TopicConfigOf(std::string_view name) const;

  const config::BrokerConfig& broker_config() const { return broker_; }
  Flusher& flusher() { return flusher_; }
  storage::LogManager& logs() { return *logs_; }

  // Runs the queued metadata tasks, stops the log cleaner and the retention
  // scheduler, flushes every partition and closes the logs (writes the
  // clean-shutdown markers). Later calls fail.
  Status Close();

 private:
  // One topic as lookups see it. Never modified once published: a change
  // publishes a new TopicState (sharing the unchanged Partition objects).
  struct TopicState {
    TopicInfo info;
    // Assigned by a controller (HostReplicas): `partitions` may hold nulls
    // (partitions other brokers hold), and the topic table knows nothing of it.
    bool replicated = false;
    config::TopicConfig config;  // Resolved: broker defaults + overrides.
    std::vector<std::shared_ptr<Partition>> partitions;  // size() == info.partition_count
  };
  using TopicMap = std::map<std::string, std::shared_ptr<const TopicState>, std::less<>>;

  PartitionManager(const config::BrokerConfig& broker, std::unique_ptr<TopicTable> topics,
                   std::unique_ptr<storage::LogManager> logs, metrics::BrokerMetrics* metrics);

  std::shared_ptr<const TopicMap> View() const { return view_.load(std::memory_order_acquire); }
  std::shared_ptr<const TopicState> FindState(std::string_view name) const;
  // Replaces (or with null removes) one topic in the published map.
  // REQUIRES: change_mu_ held.
  void Publish(const std::string& name, std::shared_ptr<const TopicState> state)
      REQUIRES(change_mu_);
  // The state of `info`'s topic: `current`'s partitions (null for a new
  // topic) plus the missing ones, opened or created, with the config of
  // `info`. REQUIRES: change_mu_ held.
  Result<std::shared_ptr<const TopicState>> BuildTopicLocked(const TopicInfo& info,
                                                             const TopicState* current)
      REQUIRES(change_mu_);
  // A Partition on `log` (its producer state rebuilt from the log's tail),
  // with its gauges registered. REQUIRES: change_mu_ held.
  std::shared_ptr<Partition> MakePartitionLocked(const storage::TopicPartition& tp,
                                                 const TopicId& id,
                                                 std::shared_ptr<storage::Log> log)
      REQUIRES(change_mu_);
  // OutOfRange if `more` partitions (for `topic`) would take the broker
  // past sluice.broker.max.partitions.
  Status CheckPartitionLimitLocked(std::string_view topic, int32_t more) const
      REQUIRES(change_mu_);
  // Closes and removes the logs of partitions [from, to) of `topic` that
  // exist (a failure is logged: the directory stays for start-up to see).
  void RemoveLogsLocked(std::string_view topic, int32_t from, int32_t to) REQUIRES(change_mu_);
  // The error a change that failed half-way answers, after undoing it
  // (`undone`: how that went); logs `cause` in full.
  static Status FailedChange(const std::string& what, const Status& cause, const Status& undone);
  // Validates and writes `configs` as the overrides of `current`'s topic,
  // hands the logs their new settings and publishes the new state.
  // REQUIRES: change_mu_ held.
  Status SetTopicConfigsLocked(const TopicState& current,
                               const std::map<std::string, std::string>& configs,
                               bool validate_only) REQUIRES(change_mu_);

  const config::BrokerConfig& broker_;
  std::unique_ptr<TopicTable> topics_;
  std::unique_ptr<storage::LogManager> logs_;
  Flusher flusher_;
  std::unique_ptr<storage::LogCleaner> cleaner_;  // null when log.cleaner.enable=false
  std::unique_ptr<RetentionScheduler> retention_;

  metrics::BrokerMetrics* const metrics_;  // May be null.
  // Reads cleaner_; declared after it so that it is dropped first.
  metrics::BrokerMetrics::CleanerMetrics cleaner_metrics_;

  // Serializes changes, and guards partition_metrics_. Lookups never take it.
  Mutex change_mu_;
  // The published topics; replaced whole (copy-on-write) under change_mu_.
  std::atomic<std::shared_ptr<const TopicMap>> view_;
  // The gauges of each topic's partitions (by index); dropped, which
  // unregisters them, before the partitions' logs are deleted or closed.
  std::map<std::string, std::vector<metrics::BrokerMetrics::PartitionMetrics>, std::less<>>
      partition_metrics_ GUARDED_BY(change_mu_);

  // Last: stopped (its queue run) first, while everything above exists.
  MetadataWorker worker_;
};

}  // namespace sluice::cluster
