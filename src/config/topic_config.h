// Topic-level configuration: Kafka's topic keys, each with the broker key that
// supplies its default (retention.ms <- log.retention.ms, ...), validation of
// per-topic overrides (CreateTopics / AlterConfigs), the typed effective
// config the storage layer uses, and DescribeConfigs rows. Pure functions of
// their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/broker_config.h"
#include "config/config_registry.h"
#include "config/config_types.h"

namespace sluice::config {

struct TopicConfigKey {
  const char* topic_name;   // e.g. "retention.ms"
  // Broker key giving the default, e.g. "log.retention.ms"; null for the
  // keys without one (the throttled-replica lists), whose default is the
  // definition's.
  const char* broker_name;
};

// Topic keys with their broker synonyms, and their definitions (validators;
// defaults are Kafka's when no broker config is at hand).
const std::vector<TopicConfigKey>& TopicConfigKeys();
const ConfigRegistry& TopicConfigRegistry();

// Topic overrides as stored with the topic: key -> text.
using TopicOverrides = std::map<std::string, std::string>;

// Checks every key is a topic key and every value valid; lists all problems.
Status ValidateTopicOverrides(const TopicOverrides& overrides);

// Topic defaults as this broker has them: value from the broker key (with
// its synonyms resolved), source DEFAULT_CONFIG or STATIC_BROKER_CONFIG.
std::map<std::string, ConfigEntry> TopicDefaultsFromBroker(const BrokerConfig& broker);

// DescribeConfigs rows for one topic: overrides are DYNAMIC_TOPIC_CONFIG,
// the rest come from TopicDefaultsFromBroker. Synonyms list the override and
// the broker value, most specific first. Overrides must be valid.
std::vector<ConfigEntry> DescribeTopicConfig(const BrokerConfig& broker,
                                             const TopicOverrides& overrides);

enum class TimestampType { kCreateTime, kLogAppendTime };

// leader./follower.replication.throttled.replicas: the replicas of a topic
// whose catch-up a broker's replication quota holds back
// (replication/replication_quota.h), as "partition:broker" pairs, or every
// replica ("*"). A broker reads the pairs that name itself: on a leader,
// the partitions whose out-of-sync followers it serves throttled; on a
// follower, the partitions it fetches throttled while out of sync.
struct ThrottledReplicas {
  bool all = false;
  std::vector<std::pair<int32_t, int32_t>> replicas;  // (partition, broker id)

  bool Names(int32_t partition, int32_t broker_id) const {
    if (all) return true;
    for (const auto& [p, b] : replicas) {
      if (p == partition && b == broker_id) return true;
    }
    return false;
  }
  bool empty() const { return !all && replicas.empty(); }
};

// The effective configuration of one topic, typed.
struct TopicConfig {
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  std::string compression_type = "producer";
  int64_t delete_retention_ms = 86400000;
  int64_t file_delete_delay_ms = 60000;
  int64_t flush_messages = INT64_MAX;
  int64_t flush_ms = INT64_MAX;
  int32_t index_interval_bytes = 4096;
  int64_t max_compaction_lag_ms = INT64_MAX;
  int32_t max_message_bytes = 1048588;
  bool message_downconversion_enable = true;
  int64_t message_timestamp_difference_max_ms = INT64_MAX;
  // The bounds in force for CreateTime records (KIP-937), each falling back
  // to message_timestamp_difference_max_ms when its own key is unset.
  // INT64_MAX: no bound.
  int64_t message_timestamp_before_max_ms = INT64_MAX;
  int64_t message_timestamp_after_max_ms = INT64_MAX;
  TimestampType message_timestamp_type = TimestampType::kCreateTime;
  double min_cleanable_dirty_ratio = 0.5;
  int64_t min_compaction_lag_ms = 0;
  int32_t min_insync_replicas = 1;
  bool preallocate = false;
  int64_t retention_bytes = -1;
  int64_t retention_ms = 604800000;  // -1: forever.
  int32_t segment_bytes = 1073741824;
  int32_t segment_index_bytes = 10485760;
  int64_t segment_jitter_ms = 0;
  int64_t segment_ms = 604800000;
  bool unclean_leader_election_enable = false;
  ThrottledReplicas leader_throttled_replicas;
  ThrottledReplicas follower_throttled_replicas;
};

Result<TopicConfig> ResolveTopicConfig(const BrokerConfig& broker,
                                       const TopicOverrides& overrides);

}  // namespace sluice::config
