#include "config/topic_config.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

namespace sluice::config {

namespace {

using T = ConfigType;

ConfigDef TopicDef(const char* name, ConfigType type, const char* def, Validator v,
                   const char* doc) {
  return ConfigDef{name, type, std::string(def), std::move(v), doc, Support::kSupported,
                   /*read_only=*/false};
}

// Kafka's ThrottledReplicaListValidator: "*", or "partition:broker" pairs.
std::optional<std::string> ThrottledReplicaListProblem(const ConfigValue& v) {
  auto* list = std::get_if<std::vector<std::string>>(&v);
  if (list == nullptr) return std::nullopt;
  if (list->size() == 1 && list->front() == "*") return std::nullopt;
  for (const std::string& item : *list) {
    const size_t colon = item.find(':');
    auto digits = [](std::string_view s) {
      return !s.empty() && s.size() <= 9 &&
             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (colon == std::string::npos || !digits(std::string_view(item).substr(0, colon)) ||
        !digits(std::string_view(item).substr(colon + 1))) {
      return fmt::format("must be the literal '*' or a list of replicas in the form "
                         "partitionId:brokerId, but '{}' is not",
                         item);
    }
  }
  return std::nullopt;
}

ThrottledReplicas ParseThrottledReplicas(const std::vector<std::string>& list) {
  ThrottledReplicas out;
  if (list.size() == 1 && list.front() == "*") {
    out.all = true;
    return out;
  }
  for (const std::string& item : list) {  // validated: "digits:digits"
    const size_t colon = item.find(':');
    out.replicas.emplace_back(std::stoi(item.substr(0, colon)), std::stoi(item.substr(colon + 1)));
  }
  return out;
}

std::vector<ConfigDef> MakeTopicDefs() {
  const Validator positive = AtLeast(1);
  const Validator non_negative = AtLeast(0);
  return {
      TopicDef("cleanup.policy", T::kList, "delete", ListOf({"delete", "compact"}),
               "delete and/or compact."),
      TopicDef("compression.type", T::kString, "producer",
               OneOf({"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}),
               "Compression of stored batches."),
      TopicDef("delete.retention.ms", T::kLong, "86400000", non_negative,
               "How long tombstones are kept in compacted topics."),
      TopicDef("file.delete.delay.ms", T::kLong, "60000", non_negative,
               "Delay before deleting a removed segment's files."),
      TopicDef("flush.messages", T::kLong, kLongMax, non_negative, "fsync every N messages."),
      TopicDef("flush.ms", T::kLong, kLongMax, non_negative, "fsync after this long."),
      TopicDef("index.interval.bytes", T::kInt, "4096", non_negative,
               "Bytes between offset index entries."),
      TopicDef("leader.replication.throttled.replicas", T::kList, "", ThrottledReplicaListProblem,
               "partition:broker pairs (or *) whose leaders send to out-of-sync followers within "
               "leader.replication.throttled.rate."),
      TopicDef("follower.replication.throttled.replicas", T::kList, "",
               ThrottledReplicaListProblem,
               "partition:broker pairs (or *) whose out-of-sync followers fetch within "
               "follower.replication.throttled.rate."),
      TopicDef("max.compaction.lag.ms", T::kLong, kLongMax, positive,
               "Maximum age before compaction."),
      TopicDef("max.message.bytes", T::kInt, "1048588", non_negative, "Largest record batch."),
      TopicDef("message.downconversion.enable", T::kBoolean, "true", {},
               "Down-convert for old fetch versions."),
      TopicDef("message.timestamp.difference.max.ms", T::kLong, kLongMax, non_negative,
               "Largest accepted |broker time - CreateTime|."),
      TopicDef("message.timestamp.before.max.ms", T::kLong, kLongMax, non_negative,
               "Largest accepted broker time - CreateTime; unset (Long.MAX): "
               "message.timestamp.difference.max.ms."),
      TopicDef("message.timestamp.after.max.ms", T::kLong, kLongMax, non_negative,
               "Largest accepted CreateTime - broker time; unset (Long.MAX): "
               "message.timestamp.difference.max.ms."),
      TopicDef("message.timestamp.type", T::kString, "CreateTime",
               OneOf({"CreateTime", "LogAppendTime"}), "CreateTime or LogAppendTime."),
      TopicDef("min.cleanable.dirty.ratio", T::kDouble, "0.5", Between(0, 1),
               "Dirty ratio that triggers cleaning."),
      TopicDef("min.compaction.lag.ms", T::kLong, "0", non_negative,
               "Minimum age before compaction."),
      TopicDef("min.insync.replicas", T::kInt, "1", positive,
               "Replicas that must have a write for acks=all."),
      TopicDef("preallocate", T::kBoolean, "false", {},
               "Accepted for Kafka compatibility; no effect (see sluice.log.preallocate.bytes)."),
      TopicDef("retention.bytes", T::kLong, "-1", {}, "Largest partition size; -1: no limit."),
      TopicDef("retention.ms", T::kLong, "604800000", AtLeast(-1),
               "Keep data this long; -1: forever."),
      TopicDef("segment.bytes", T::kInt, "1073741824", AtLeast(14), "Segment size."),
      TopicDef("segment.index.bytes", T::kInt, "10485760", AtLeast(4),
               "Maximum offset index size."),
      TopicDef("segment.jitter.ms", T::kLong, "0", non_negative, "Random jitter on segment.ms."),
      TopicDef("segment.ms", T::kLong, "604800000", positive, "Roll a segment after this long."),
      TopicDef("unclean.leader.election.enable", T::kBoolean, "false", {},
               "Single node: no effect."),
  };
}

// The broker's value for a topic key's synonym, as text.
std::optional<std::string> BrokerValueText(const BrokerConfig& broker, std::string_view key) {
  if (key == "log.retention.ms") return std::to_string(broker.log_retention_ms());
  if (key == "log.roll.ms") return std::to_string(broker.log_roll_ms());
  if (key == "log.roll.jitter.ms") return std::to_string(broker.log_roll_jitter_ms());
  if (key == "log.flush.interval.ms") return std::to_string(broker.log_flush_interval_ms());
  return FormatConfigValue(broker.Get(key));
}

// Whether the broker value came from its file/overrides, synonyms included.
bool BrokerValueSet(const BrokerConfig& broker, std::string_view key) {
  if (key == "log.retention.ms") {
    return broker.IsSet("log.retention.ms") || broker.IsSet("log.retention.minutes") ||
           broker.IsSet("log.retention.hours");
  }
  if (key == "log.roll.ms") return broker.IsSet("log.roll.ms") || broker.IsSet("log.roll.hours");
  if (key == "log.roll.jitter.ms") {
    return broker.IsSet("log.roll.jitter.ms") || broker.IsSet("log.roll.jitter.hours");
  }
  if (key == "log.flush.interval.ms") {
    return broker.IsSet("log.flush.interval.ms") ||
           broker.IsSet("log.flush.scheduler.interval.ms");
  }
  return broker.IsSet(key);
}

}  // namespace

const std::vector<TopicConfigKey>& TopicConfigKeys() {
  static const std::vector<TopicConfigKey> keys = {
      {"cleanup.policy", "log.cleanup.policy"},
      {"compression.type", "compression.type"},
      {"delete.retention.ms", "log.cleaner.delete.retention.ms"},
      {"file.delete.delay.ms", "log.segment.delete.delay.ms"},
      {"flush.messages", "log.flush.interval.messages"},
      {"flush.ms", "log.flush.interval.ms"},
      {"index.interval.bytes", "log.index.interval.bytes"},
      {"leader.replication.throttled.replicas", nullptr},
      {"follower.replication.throttled.replicas", nullptr},
      {"max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms"},
      {"max.message.bytes", "message.max.bytes"},
      {"message.downconversion.enable", "log.message.downconversion.enable"},
      {"message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms"},
      {"message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms"},
      {"message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms"},
      {"message.timestamp.type", "log.message.timestamp.type"},
      {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio"},
      {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"},
      {"min.insync.replicas", "min.insync.replicas"},
      {"preallocate", "log.preallocate"},
      {"retention.bytes", "log.retention.bytes"},
      {"retention.ms", "log.retention.ms"},
      {"segment.bytes", "log.segment.bytes"},
      {"segment.index.bytes", "log.index.size.max.bytes"},
      {"segment.jitter.ms", "log.roll.jitter.ms"},
      {"segment.ms", "log.roll.ms"},
      {"unclean.leader.election.enable", "unclean.leader.election.enable"},
  };
  return keys;
}

const ConfigRegistry& TopicConfigRegistry() {
  static const ConfigRegistry registry(MakeTopicDefs());
  return registry;
}

Status ValidateTopicOverrides(const TopicOverrides& overrides) {
  std::vector<std::string> problems;
  for (const auto& [key, value] : overrides) {
    const ConfigDef* def = TopicConfigRegistry().Find(key);
    if (def == nullptr) {
      problems.push_back(fmt::format("unknown topic configuration '{}'", key));
      continue;
    }
    auto parsed = ParseConfigValue(*def, value);
    if (!parsed.ok()) problems.push_back(parsed.status().message());
  }
  if (problems.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format("{}", fmt::join(problems, "; ")));
}

std::map<std::string, ConfigEntry> TopicDefaultsFromBroker(const BrokerConfig& broker) {
  std::map<std::string, ConfigEntry> out;
  for (const TopicConfigKey& key : TopicConfigKeys()) {
    const ConfigDef* def = TopicConfigRegistry().Find(key.topic_name);
    ConfigEntry entry;
    entry.name = key.topic_name;
    entry.type = def->type;
    entry.sensitive = false;
    entry.read_only = false;
    entry.documentation = def->doc;
    if (key.broker_name == nullptr) {  // No broker default: the definition's.
      entry.value = def->default_text;
      entry.source = ConfigSource::kDefault;
      out.emplace(key.topic_name, std::move(entry));
      continue;
    }
    entry.value = BrokerValueText(broker, key.broker_name);
    entry.source = BrokerValueSet(broker, key.broker_name) ? ConfigSource::kStaticBroker
                                                           : ConfigSource::kDefault;
    entry.synonyms.push_back({key.broker_name, entry.value, entry.source});
    out.emplace(key.topic_name, std::move(entry));
  }
  return out;
}

std::vector<ConfigEntry> DescribeTopicConfig(const BrokerConfig& broker,
                                             const TopicOverrides& overrides) {
  std::map<std::string, ConfigEntry> entries = TopicDefaultsFromBroker(broker);
  for (auto& [name, entry] : entries) {
    auto it = overrides.find(name);
    if (it == overrides.end()) continue;
    const ConfigDef* def = TopicConfigRegistry().Find(name);
    auto parsed = ParseConfigValue(*def, it->second);
    entry.value = parsed.ok() ? FormatConfigValue(*parsed) : std::optional<std::string>(it->second);
    entry.source = ConfigSource::kDynamicTopic;
    entry.synonyms.insert(entry.synonyms.begin(),
                          ConfigSynonym{name, entry.value, ConfigSource::kDynamicTopic});
  }
  std::vector<ConfigEntry> out;
  out.reserve(entries.size());
  for (auto& [name, entry] : entries) out.push_back(std::move(entry));
  return out;
}

Result<TopicConfig> ResolveTopicConfig(const BrokerConfig& broker,
                                       const TopicOverrides& overrides) {
  SLUICE_RETURN_IF_ERROR(ValidateTopicOverrides(overrides));
  std::map<std::string, ConfigValue> values;
  for (const auto& [name, entry] : TopicDefaultsFromBroker(broker)) {
    const ConfigDef* def = TopicConfigRegistry().Find(name);
    auto it = overrides.find(name);
    const std::string text = it != overrides.end() ? it->second : entry.value.value_or("");
    auto parsed = ParseConfigValue(*def, text);
    if (!parsed.ok()) return parsed.status();
    values[name] = std::move(parsed).value();
  }
  auto i64 = [&](const char* n) { return std::get<int64_t>(values.at(n)); };
  auto i32 = [&](const char* n) { return std::get<int32_t>(values.at(n)); };
  auto boolean = [&](const char* n) { return std::get<bool>(values.at(n)); };
  TopicConfig c;
  const auto& policies = std::get<std::vector<std::string>>(values.at("cleanup.policy"));
  c.cleanup_delete = std::find(policies.begin(), policies.end(), "delete") != policies.end();
  c.cleanup_compact = std::find(policies.begin(), policies.end(), "compact") != policies.end();
  c.compression_type = std::get<std::string>(values.at("compression.type"));
  c.delete_retention_ms = i64("delete.retention.ms");
  c.file_delete_delay_ms = i64("file.delete.delay.ms");
  c.flush_messages = i64("flush.messages");
  c.flush_ms = i64("flush.ms");
  c.index_interval_bytes = i32("index.interval.bytes");
  c.max_compaction_lag_ms = i64("max.compaction.lag.ms");
  c.max_message_bytes = i32("max.message.bytes");
  c.message_downconversion_enable = boolean("message.downconversion.enable");
  c.message_timestamp_difference_max_ms = i64("message.timestamp.difference.max.ms");
  // As Kafka 3.6-3.9 (LogConfig): a side whose KIP-937 key is unset (still
  // Long.MAX) takes its bound from the older difference key.
  const int64_t before = i64("message.timestamp.before.max.ms");
  const int64_t after = i64("message.timestamp.after.max.ms");
  c.message_timestamp_before_max_ms =
      before != INT64_MAX ? before : c.message_timestamp_difference_max_ms;
  c.message_timestamp_after_max_ms =
      after != INT64_MAX ? after : c.message_timestamp_difference_max_ms;
  c.message_timestamp_type = std::get<std::string>(values.at("message.timestamp.type")) ==
                                     "LogAppendTime"
                                 ? TimestampType::kLogAppendTime
                                 : TimestampType::kCreateTime;
  c.min_cleanable_dirty_ratio = std::get<double>(values.at("min.cleanable.dirty.ratio"));
  c.min_compaction_lag_ms = i64("min.compaction.lag.ms");
  c.min_insync_replicas = i32("min.insync.replicas");
  c.preallocate = boolean("preallocate");
  c.retention_bytes = i64("retention.bytes");
  c.retention_ms = i64("retention.ms") < 0 ? -1 : i64("retention.ms");
  c.segment_bytes = i32("segment.bytes");
  c.segment_index_bytes = i32("segment.index.bytes");
  c.segment_jitter_ms = i64("segment.jitter.ms");
  c.segment_ms = i64("segment.ms");
  c.unclean_leader_election_enable = boolean("unclean.leader.election.enable");
  using List = std::vector<std::string>;
  c.leader_throttled_replicas =
      ParseThrottledReplicas(std::get<List>(values.at("leader.replication.throttled.replicas")));
  c.follower_throttled_replicas =
      ParseThrottledReplicas(std::get<List>(values.at("follower.replication.throttled.replicas")));
  return c;
}

}  // namespace sluice::config
