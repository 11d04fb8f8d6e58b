#include "config/topic_config.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

BrokerConfig Broker(std::vector<std::string> overrides) {
  auto c = BrokerConfig::Build({}, "", overrides);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : BrokerConfig();
}

TEST(TopicConfigTest, EveryTopicKeyHasADefinitionAndItsBrokerSynonymExists) {
  for (const TopicConfigKey& key : TopicConfigKeys()) {
    EXPECT_NE(TopicConfigRegistry().Find(key.topic_name), nullptr) << key.topic_name;
    if (key.broker_name == nullptr) continue;  // the throttled-replica lists have none, as in Kafka
    EXPECT_NE(BrokerConfigRegistry().Find(key.broker_name), nullptr) << key.broker_name;
  }
  EXPECT_EQ(TopicConfigKeys().size(), TopicConfigRegistry().defs().size());
}

TEST(TopicConfigTest, KafkaDefaults) {
  auto t = ResolveTopicConfig(BrokerConfig(), {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->retention_ms, 604800000);
  EXPECT_EQ(t->retention_bytes, -1);
  EXPECT_EQ(t->segment_bytes, 1073741824);
  EXPECT_EQ(t->segment_ms, 604800000);
  EXPECT_EQ(t->max_message_bytes, 1048588);
  EXPECT_TRUE(t->cleanup_delete);
  EXPECT_FALSE(t->cleanup_compact);
  EXPECT_EQ(t->message_timestamp_type, TimestampType::kCreateTime);
  EXPECT_EQ(t->flush_messages, INT64_MAX);
  EXPECT_EQ(t->flush_ms, INT64_MAX);
  EXPECT_EQ(t->index_interval_bytes, 4096);
  EXPECT_EQ(t->segment_index_bytes, 10485760);
  EXPECT_EQ(t->delete_retention_ms, 86400000);
  EXPECT_DOUBLE_EQ(t->min_cleanable_dirty_ratio, 0.5);
  EXPECT_EQ(t->compression_type, "producer");
}

TEST(TopicConfigTest, BrokerSettingsBecomeTopicDefaults) {
  BrokerConfig broker = Broker({"log.retention.hours=1", "log.segment.bytes=1024",
                                "log.cleanup.policy=compact", "message.max.bytes=500",
                                "log.flush.interval.messages=1"});
  auto defaults = TopicDefaultsFromBroker(broker);
  EXPECT_EQ(defaults.at("retention.ms").value, "3600000");
  EXPECT_EQ(defaults.at("retention.ms").source, ConfigSource::kStaticBroker);
  EXPECT_EQ(defaults.at("retention.ms").synonyms.at(0).name, "log.retention.ms");
  EXPECT_EQ(defaults.at("segment.bytes").value, "1024");
  EXPECT_EQ(defaults.at("segment.ms").source, ConfigSource::kDefault);
  EXPECT_EQ(defaults.at("cleanup.policy").value, "compact");
  auto t = ResolveTopicConfig(broker, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->retention_ms, 3600000);
  EXPECT_EQ(t->segment_bytes, 1024);
  EXPECT_TRUE(t->cleanup_compact);
  EXPECT_FALSE(t->cleanup_delete);
  EXPECT_EQ(t->max_message_bytes, 500);
  EXPECT_EQ(t->flush_messages, 1);
}

// KIP-937 bounds: unset (Long.MAX) by default on both sides; a side left
// unset takes message.timestamp.difference.max.ms, as in Kafka 3.6-3.9;
// the broker keys supply the topic defaults.
TEST(TopicConfigTest, TimestampBoundsFallBackToTheDifferenceKeyPerSide) {
  auto none = ResolveTopicConfig(BrokerConfig(), {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->message_timestamp_before_max_ms, INT64_MAX);
  EXPECT_EQ(none->message_timestamp_after_max_ms, INT64_MAX);

  auto diff = ResolveTopicConfig(BrokerConfig(), {{"message.timestamp.difference.max.ms", "5000"},
                                                  {"message.timestamp.after.max.ms", "700"}});
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff->message_timestamp_before_max_ms, 5000);
  EXPECT_EQ(diff->message_timestamp_after_max_ms, 700);

  BrokerConfig broker = Broker({"log.message.timestamp.before.max.ms=100",
                                "log.message.timestamp.after.max.ms=200"});
  auto defaults = TopicDefaultsFromBroker(broker);
  EXPECT_EQ(defaults.at("message.timestamp.before.max.ms").value, "100");
  EXPECT_EQ(defaults.at("message.timestamp.before.max.ms").source, ConfigSource::kStaticBroker);
  EXPECT_EQ(defaults.at("message.timestamp.after.max.ms").synonyms.at(0).name,
            "log.message.timestamp.after.max.ms");
  auto from_broker = ResolveTopicConfig(broker, {{"message.timestamp.after.max.ms", "0"}});
  ASSERT_TRUE(from_broker.ok());
  EXPECT_EQ(from_broker->message_timestamp_before_max_ms, 100);
  EXPECT_EQ(from_broker->message_timestamp_after_max_ms, 0);

  EXPECT_FALSE(ValidateTopicOverrides({{"message.timestamp.before.max.ms", "-1"}}).ok());
  EXPECT_FALSE(ValidateTopicOverrides({{"message.timestamp.after.max.ms", "soon"}}).ok());
}

TEST(TopicConfigTest, OverridesWinAndAreDynamicTopicConfig) {
  BrokerConfig broker = Broker({"log.retention.hours=1"});
  TopicOverrides overrides = {{"retention.ms", "1000"}, {"cleanup.policy", "compact,delete"},
                              {"message.timestamp.type", "LogAppendTime"}};
  ASSERT_TRUE(ValidateTopicOverrides(overrides).ok());
  auto t = ResolveTopicConfig(broker, overrides);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->retention_ms, 1000);
  EXPECT_TRUE(t->cleanup_compact && t->cleanup_delete);
  EXPECT_EQ(t->message_timestamp_type, TimestampType::kLogAppendTime);
  for (const ConfigEntry& e : DescribeTopicConfig(broker, overrides)) {
    if (e.name == "retention.ms") {
      EXPECT_EQ(e.value, "1000");
      EXPECT_EQ(e.source, ConfigSource::kDynamicTopic);
      ASSERT_EQ(e.synonyms.size(), 2u);
      EXPECT_EQ(e.synonyms[1].name, "log.retention.ms");
      EXPECT_EQ(e.synonyms[1].value, "3600000");
      EXPECT_FALSE(e.read_only);
    }
    if (e.name == "segment.bytes") {
      EXPECT_EQ(e.source, ConfigSource::kDefault);
    }
  }
}

TEST(TopicConfigTest, InvalidOverridesAreNamed) {
  Status s = ValidateTopicOverrides(
      {{"retention.ms", "soon"}, {"no.such", "1"}, {"min.cleanable.dirty.ratio", "2"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'retention.ms'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'no.such'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'min.cleanable.dirty.ratio'"), std::string::npos) << s.message();
  EXPECT_FALSE(ResolveTopicConfig(BrokerConfig(), {{"segment.bytes", "0"}}).ok());
  EXPECT_TRUE(ResolveTopicConfig(BrokerConfig(), {{"retention.ms", "-1"}}).ok());
}

TEST(TopicConfigTest, ThrottledReplicaListsAreStarOrPartitionBrokerPairs) {
  auto t = ResolveTopicConfig(BrokerConfig(), {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->leader_throttled_replicas.empty());
  EXPECT_TRUE(t->follower_throttled_replicas.empty());

  t = ResolveTopicConfig(BrokerConfig(), {{"leader.replication.throttled.replicas", "0:1, 0:2,3:1"},
                                          {"follower.replication.throttled.replicas", "*"}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->leader_throttled_replicas.Names(0, 1));
  EXPECT_TRUE(t->leader_throttled_replicas.Names(0, 2));
  EXPECT_TRUE(t->leader_throttled_replicas.Names(3, 1));
  EXPECT_FALSE(t->leader_throttled_replicas.Names(3, 2));
  EXPECT_FALSE(t->leader_throttled_replicas.Names(1, 1));
  EXPECT_TRUE(t->follower_throttled_replicas.all);
  EXPECT_TRUE(t->follower_throttled_replicas.Names(7, 9));

  for (const char* bad : {"0", "0:", ":1", "a:1", "0:1,*", "0:1:2", "-1:2"}) {
    Status s = ValidateTopicOverrides({{"follower.replication.throttled.replicas", bad}});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("partitionId:brokerId"), std::string::npos) << s.message();
  }
}

TEST(TopicConfigTest, ThrottledReplicaListsDescribeAsEmptyDefaultsWithoutSynonyms) {
  std::vector<ConfigEntry> rows =
      DescribeTopicConfig(BrokerConfig(), {{"leader.replication.throttled.replicas", "0:1"}});
  int seen = 0;
  for (const ConfigEntry& e : rows) {
    if (e.name == "follower.replication.throttled.replicas") {
      ++seen;
      EXPECT_EQ(e.value, std::optional<std::string>(""));
      EXPECT_EQ(e.source, ConfigSource::kDefault);
      EXPECT_TRUE(e.synonyms.empty());
    }
    if (e.name == "leader.replication.throttled.replicas") {
      ++seen;
      EXPECT_EQ(e.value, std::optional<std::string>("0:1"));
      EXPECT_EQ(e.source, ConfigSource::kDynamicTopic);
      ASSERT_EQ(e.synonyms.size(), 1u);
    }
  }
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace sluice::config
