// cluster info and the topic subcommands: metadata plus the admin API.
#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tools/commands.h"

namespace sluice::tools {

namespace {

CommandStatus CheckTopicResults(const rd_kafka_topic_result_t** results, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    return CommandStatus::Kafka(err, msg != nullptr ? msg : "");
  }
  return {};
}

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;  // nullopt: sensitive or unset.
  rd_kafka_ConfigSource_t source;
  bool is_default;
  bool sensitive;
};

// Old brokers (DescribeConfigs v0) give no source, only is_default.
bool IsTopicOverride(const ConfigEntry& e) {
  return e.source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
         (e.source == RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG && !e.is_default);
}

CommandStatus CheckResource(const rd_kafka_ConfigResource_t* res) {
  rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(res);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const char* msg = rd_kafka_ConfigResource_error_string(res);
  return CommandStatus::Kafka(err, msg != nullptr ? msg : "");
}

CommandStatus DescribeTopicConfigs(KafkaClient& client, const std::string& topic,
                                   std::vector<ConfigEntry>* out) {
  EventPtr ev;
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_ConfigResource_t* res =
            rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
        rd_kafka_DescribeConfigs(client.get(), &res, 1, options, queue);
        rd_kafka_ConfigResource_destroy(res);  // The request holds a copy.
      },
      &ev);
  if (!s.ok()) return s;
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    s = CheckResource(resources[i]);
    if (!s.ok()) return s;
    size_t entry_count = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &entry_count);
    for (size_t j = 0; j < entry_count; ++j) {
      const rd_kafka_ConfigEntry_t* e = entries[j];
      const char* value = rd_kafka_ConfigEntry_value(e);
      out->push_back({rd_kafka_ConfigEntry_name(e),
                      value != nullptr ? std::optional<std::string>(value) : std::nullopt,
                      rd_kafka_ConfigEntry_source(e), rd_kafka_ConfigEntry_is_default(e) != 0,
                      rd_kafka_ConfigEntry_is_sensitive(e) != 0});
    }
  }
  std::sort(out->begin(), out->end(),
            [](const ConfigEntry& a, const ConfigEntry& b) { return a.name < b.name; });
  return {};
}

std::string JoinIds(const int32_t* ids, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += fmt::format("{}{}", i > 0 ? "," : "", ids[i]);
  return out.empty() ? "-" : out;
}

// kafka-topics.sh --describe --under-replicated-partitions /
// --unavailable-partitions: one line per partition that matches a filter,
// sorted by topic and partition; nothing when all is well.
CommandStatus PrintUnhealthyPartitions(const rd_kafka_metadata_t& md,
                                       const TopicDescribeOptions& opts) {
  std::set<int32_t> live;
  for (int i = 0; i < md.broker_cnt; ++i) live.insert(md.brokers[i].id);
  std::vector<const rd_kafka_metadata_topic_t*> topics;
  if (!opts.topic.empty()) {
    const rd_kafka_metadata_topic_t* topic = nullptr;
    CommandStatus s = KafkaClient::FindTopic(md, opts.topic, &topic);
    if (!s.ok()) return s;
    topics.push_back(topic);
  } else {
    for (int i = 0; i < md.topic_cnt; ++i) topics.push_back(&md.topics[i]);
    std::sort(topics.begin(), topics.end(),
              [](auto* a, auto* b) { return std::string_view(a->topic) < b->topic; });
  }
  for (const rd_kafka_metadata_topic_t* t : topics) {
    std::vector<const rd_kafka_metadata_partition_t*> partitions;
    for (int i = 0; i < t->partition_cnt; ++i) partitions.push_back(&t->partitions[i]);
    std::sort(partitions.begin(), partitions.end(), [](auto* a, auto* b) { return a->id < b->id; });
    for (const rd_kafka_metadata_partition_t* p : partitions) {
      const bool under_replicated = p->isr_cnt < p->replica_cnt;
      const bool unavailable = p->leader < 0 || !live.contains(p->leader);
      if (!(opts.under_replicated && under_replicated) && !(opts.unavailable && unavailable)) {
        continue;
      }
      fmt::print("Topic: {}  Partition: {}  Leader: {}  Replicas: {}  Isr: {}\n", t->topic, p->id,
                 p->leader < 0 ? "none" : fmt::to_string(p->leader),
                 JoinIds(p->replicas, p->replica_cnt), JoinIds(p->isrs, p->isr_cnt));
    }
  }
  return {};
}

}  // namespace

int RunClusterInfo(const GlobalOptions& global) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);

  // Both come with the metadata just fetched; waiting longer would only stall
  // on a broker that does not report them.
  char* cluster_id = rd_kafka_clusterid(client->get(), 0);
  int32_t controller = rd_kafka_controllerid(client->get(), 0);
  fmt::print("Cluster ID:  {}\n", cluster_id != nullptr ? cluster_id : "(unknown)");
  if (cluster_id != nullptr) rd_kafka_mem_free(client->get(), cluster_id);
  fmt::print("Controller:  {}\n", controller >= 0 ? fmt::to_string(controller) : "(unknown)");
  fmt::print("Brokers:     {}\n", md->broker_cnt);
  std::vector<const rd_kafka_metadata_broker_t*> brokers;
  for (int i = 0; i < md->broker_cnt; ++i) brokers.push_back(&md->brokers[i]);
  std::sort(brokers.begin(), brokers.end(), [](auto* a, auto* b) { return a->id < b->id; });
  for (const rd_kafka_metadata_broker_t* b : brokers) {
    fmt::print("  {:<6} {}:{}{}\n", b->id, b->host, b->port,
               b->id == controller ? "  (controller)" : "");
  }
  fmt::print("Topics:      {}\n", md->topic_cnt);
  return kExitOk;
}

int RunTopicCreate(const GlobalOptions& global, const TopicCreateOptions& opts) {
  Result<std::vector<KeyValue>> configs = ParseKeyValues(opts.configs);
  if (!configs.ok()) return Finish(CommandStatus::Usage("--config: " + configs.status().message()));
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);

  char errstr[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
      opts.topic.c_str(), opts.partitions, opts.replication_factor, errstr, sizeof errstr);
  if (topic == nullptr) return Finish(CommandStatus::Usage(errstr));
  RdPtr<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy> owned(topic);
  for (const KeyValue& kv : *configs) {
    rd_kafka_NewTopic_set_config(topic, kv.first.c_str(), kv.second.c_str());
  }
  EventPtr ev;
  s = client->RunAdmin(
      RD_KAFKA_EVENT_CREATETOPICS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreateTopics(client->get(), &topic, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return Finish(s);
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  s = CheckTopicResults(results, n);
  if (!s.ok()) return Finish(s);
  fmt::print("Created topic '{}'.\n", opts.topic);
  return kExitOk;
}

int RunTopicList(const GlobalOptions& global) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  std::set<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) names.insert(md->topics[i].topic);
  for (const std::string& name : names) fmt::print("{}\n", name);
  return kExitOk;
}

int RunTopicDescribe(const GlobalOptions& global, const TopicDescribeOptions& opts) {
  const bool filtered = opts.under_replicated || opts.unavailable;
  if (opts.topic.empty() && !filtered) {
    return Finish(CommandStatus::Usage(
        "name a topic (or give --under-replicated or --unavailable to look at every topic)"));
  }
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  if (filtered) return Finish(PrintUnhealthyPartitions(*md, opts));
  const rd_kafka_metadata_topic_t* topic = nullptr;
  s = KafkaClient::FindTopic(*md, opts.topic, &topic);
  if (!s.ok()) return Finish(s);

  std::vector<const rd_kafka_metadata_partition_t*> partitions;
  for (int i = 0; i < topic->partition_cnt; ++i) partitions.push_back(&topic->partitions[i]);
  std::sort(partitions.begin(), partitions.end(), [](auto* a, auto* b) { return a->id < b->id; });
  fmt::print("Topic: {}  Partitions: {}  ReplicationFactor: {}\n", opts.topic,
             topic->partition_cnt, partitions.empty() ? 0 : partitions[0]->replica_cnt);
  for (const rd_kafka_metadata_partition_t* p : partitions) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        client->get(), opts.topic.c_str(), p->id, &low, &high, client->timeout_ms());
    std::string offsets = err == RD_KAFKA_RESP_ERR_NO_ERROR
                              ? fmt::format("Earliest: {}  Latest: {}", low, high)
                              : fmt::format("Offsets: {}", rd_kafka_err2name(err));
    fmt::print("  Partition: {}  Leader: {}  Replicas: {}  Isr: {}  {}{}\n", p->id, p->leader,
               JoinIds(p->replicas, p->replica_cnt), JoinIds(p->isrs, p->isr_cnt), offsets,
               p->err != RD_KAFKA_RESP_ERR_NO_ERROR
                   ? fmt::format("  Error: {}", rd_kafka_err2name(p->err)) : "");
  }

  std::vector<ConfigEntry> configs;
  s = DescribeTopicConfigs(*client, opts.topic, &configs);
  // Partitions are the main answer; a broker without DescribeConfigs only
  // costs the configs.
  if (s.kafka_error() == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
    fmt::print("Configs: (the broker does not support DescribeConfigs)\n");
    return kExitOk;
  }
  if (!s.ok()) {
    fmt::print("Configs: (unavailable)\n");
    return Finish(s);
  }
  size_t shown = 0;
  fmt::print("Configs:\n");
  for (const ConfigEntry& e : configs) {
    if (!opts.all_configs && !IsTopicOverride(e)) continue;
    ++shown;
    fmt::print("  {}={}{}\n", e.name, e.sensitive ? "(sensitive)" : e.value.value_or(""),
               opts.all_configs ? fmt::format("  ({})", rd_kafka_ConfigSource_name(e.source)) : "");
  }
  if (shown == 0) fmt::print("  (none set on the topic; --all-configs shows the defaults)\n");
  return kExitOk;
}

int RunTopicDelete(const GlobalOptions& global, const std::string& name) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
  RdPtr<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy> owned(topic);
  EventPtr ev;
  s = client->RunAdmin(
      RD_KAFKA_EVENT_DELETETOPICS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DeleteTopics(client->get(), &topic, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return Finish(s);
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  s = CheckTopicResults(results, n);
  if (!s.ok()) return Finish(s);
  fmt::print("Deleted topic '{}'.\n", name);
  return kExitOk;
}

// librdkafka 2.0 has only the non-incremental AlterConfigs, which replaces the
// topic's whole set of overrides: read the current overrides, edit them, and
// write them all back.
int RunTopicAlterConfig(const GlobalOptions& global, const TopicAlterConfigOptions& opts) {
  if (opts.set.empty() && opts.remove.empty()) {
    return Finish(CommandStatus::Usage("nothing to change: give --set name=value or --delete name"));
  }
  Result<std::vector<KeyValue>> set = ParseKeyValues(opts.set);
  if (!set.ok()) return Finish(CommandStatus::Usage("--set: " + set.status().message()));
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);

  std::vector<ConfigEntry> current;
  s = DescribeTopicConfigs(*client, opts.topic, &current);
  if (!s.ok()) return Finish(s);
  std::map<std::string, std::string> overrides;
  for (const ConfigEntry& e : current) {
    if (!IsTopicOverride(e)) continue;
    if (!e.value) {
      return Finish(CommandStatus::Failed(fmt::format(
          "cannot keep the hidden value of '{}' while altering; set it again with --set", e.name)));
    }
    overrides[e.name] = *e.value;
  }
  for (const std::string& name : opts.remove) {
    if (overrides.erase(name) == 0) {
      std::fprintf(stderr, "note: '%s' was not set on topic '%s'\n", name.c_str(),
                   opts.topic.c_str());
    }
  }
  for (const KeyValue& kv : *set) overrides[kv.first] = kv.second;

  rd_kafka_ConfigResource_t* res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, opts.topic.c_str());
  RdPtr<rd_kafka_ConfigResource_t, rd_kafka_ConfigResource_destroy> owned(res);
  for (const auto& [name, value] : overrides) {
    rd_kafka_ConfigResource_set_config(res, name.c_str(), value.c_str());
  }
  EventPtr ev;
  s = client->RunAdmin(
      RD_KAFKA_EVENT_ALTERCONFIGS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_AlterConfigs(client->get(), &res, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return Finish(s);
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    s = CheckResource(resources[i]);
    if (!s.ok()) return Finish(s);
  }
  fmt::print("Updated configs of topic '{}'.\n", opts.topic);
  return kExitOk;
}

int RunTopicAddPartitions(const GlobalOptions& global, const std::string& name, int total) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  char errstr[512];
  rd_kafka_NewPartitions_t* parts =
      rd_kafka_NewPartitions_new(name.c_str(), static_cast<size_t>(total), errstr, sizeof errstr);
  if (parts == nullptr) return Finish(CommandStatus::Usage(errstr));
  RdPtr<rd_kafka_NewPartitions_t, rd_kafka_NewPartitions_destroy> owned(parts);
  EventPtr ev;
  s = client->RunAdmin(
      RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreatePartitions(client->get(), &parts, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return Finish(s);
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(ev.get()), &n);
  s = CheckTopicResults(results, n);
  if (!s.ok()) return Finish(s);
  fmt::print("Topic '{}' now has {} partitions.\n", name, total);
  return kExitOk;
}

}  // namespace sluice::tools
