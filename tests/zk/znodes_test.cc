// The JSON of Kafka's ZooKeeper-era znodes: what Sluice writes reads back,
// what a Kafka broker writes decodes, and malformed data is an error.
#include "zk/znodes.h"

#include <gtest/gtest.h>

namespace sluice::zk {
namespace {

TEST(ZnodesTest, PathsFollowKafkasLayout) {
  EXPECT_EQ(BrokerPath(3), "/brokers/ids/3");
  EXPECT_EQ(TopicPath("orders"), "/brokers/topics/orders");
  EXPECT_EQ(PartitionStatePath("orders", 7), "/brokers/topics/orders/partitions/7/state");
  EXPECT_EQ(TopicConfigPath("orders"), "/config/topics/orders");
  EXPECT_EQ(DeleteTopicPath("orders"), "/admin/delete_topics/orders");
}

TEST(ZnodesTest, BrokerRegistrationRoundTripsWithRackAndPlaintextHostPort) {
  BrokerRegistration b;
  b.id = 2;
  b.endpoints = {"INTERNAL://10.0.0.2:9093", "CLIENT://broker2.example:9092"};
  b.security_protocols = {{"INTERNAL", "SSL"}, {"CLIENT", "PLAINTEXT"}};
  b.rack = "rack-b";
  b.timestamp_ms = 1700000000123;
  const std::string json = EncodeBroker(b);
  // Old readers find the PLAINTEXT endpoint in the top-level fields.
  EXPECT_NE(json.find("\"host\":\"broker2.example\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"port\":9092"), std::string::npos) << json;
  EXPECT_NE(json.find("\"version\":5"), std::string::npos) << json;
  auto back = DecodeBroker(2, json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->endpoints, b.endpoints);
  EXPECT_EQ(back->security_protocols, b.security_protocols);
  EXPECT_EQ(back->rack, b.rack);
  EXPECT_EQ(back->timestamp_ms, b.timestamp_ms);
}

TEST(ZnodesTest, DecodesKafkasVersion1And4BrokerRegistrations) {
  auto v1 = DecodeBroker(1, R"({"version":1,"host":"h1","port":9092,"jmx_port":-1,"timestamp":"5"})");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->endpoints, std::vector<std::string>{"PLAINTEXT://h1:9092"});
  EXPECT_EQ(v1->PlaintextHostPort(), std::make_pair(std::string("h1"), 9092));
  auto v4 = DecodeBroker(
      4, R"({"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h4:19092"],"jmx_port":-1,"host":"h4","timestamp":"1600000000000","port":19092,"version":4})");
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(v4->PlaintextHostPort(), std::make_pair(std::string("h4"), 19092));
  EXPECT_FALSE(v4->rack.has_value());
  EXPECT_EQ(v4->timestamp_ms, 1600000000000);
}

TEST(ZnodesTest, PartitionStateRoundTripsAndDecodesKafkasJson) {
  PartitionState s{/*leader=*/2, /*leader_epoch=*/5, /*controller_epoch=*/9, {2, 3, 1}};
  auto back = DecodePartitionState(EncodePartitionState(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  auto kafka = DecodePartitionState(
      R"({"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2,3]})");
  ASSERT_TRUE(kafka.ok()) << kafka.status().ToString();
  EXPECT_EQ(*kafka, (PartitionState{1, 0, 1, {1, 2, 3}}));
}

TEST(ZnodesTest, TopicAssignmentKeepsReplicaOrderAndReassignmentSets) {
  TopicAssignment a;
  a.topic_id = "q8-PBvX1SW2cVoq2xW0vOQ";
  a.partitions = {{0, {1, 2, 3}}, {1, {2, 3, 1}}, {10, {3, 1, 2}}};
  a.adding_replicas = {{1, {4}}};
  a.removing_replicas = {{1, {1}}};
  auto back = DecodeTopicAssignment(EncodeTopicAssignment(a));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->topic_id, a.topic_id);
  EXPECT_EQ(back->partitions, a.partitions);
  EXPECT_EQ(back->adding_replicas, a.adding_replicas);
  EXPECT_EQ(back->removing_replicas, a.removing_replicas);
  // Kafka 2.x wrote no reassignment sets and no topic id.
  auto old = DecodeTopicAssignment(R"({"version":1,"partitions":{"0":[1],"1":[2]}})");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->partitions.size(), 2u);
  EXPECT_TRUE(old->topic_id.empty());
}

TEST(ZnodesTest, ControllerEpochConfigAndClusterIdRoundTrip) {
  auto c = DecodeController(EncodeController({3, 42}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->broker_id, 3);
  EXPECT_EQ(c->timestamp_ms, 42);
  EXPECT_EQ(*DecodeControllerEpoch(EncodeControllerEpoch(17)), 17);
  std::map<std::string, std::string> config = {{"cleanup.policy", "compact"},
                                               {"retention.ms", "1000"}};
  EXPECT_EQ(*DecodeTopicConfig(EncodeTopicConfig(config)), config);
  EXPECT_EQ(*DecodeClusterId(EncodeClusterId("MkU3OEVBNTcwNTJENDM2Qk")), "MkU3OEVBNTcwNTJENDM2Qk");
  EXPECT_TRUE(DecodeTopicConfig(R"({"version":1})")->empty());
}

TEST(ZnodesTest, MalformedDataIsAnErrorNeverACrash) {
  const std::vector<std::string> bad = {
      "", "{", "[]", "null", "42", R"({"version":"x"})", R"({"leader":1})",
      R"({"controller_epoch":1,"leader":1,"leader_epoch":0,"isr":"1,2"})",
      R"({"controller_epoch":1,"leader":99999999999,"leader_epoch":0,"isr":[]})",
      R"({"controller_epoch":1,"leader":1,"leader_epoch":0,"isr":[1.5]})",
      R"({"partitions":{"x":[1]}})", R"({"partitions":{"-1":[1]}})",
      R"({"partitions":{"0":[1,"2"]}})", R"({"partitions":[]})",
      R"({"version":5,"endpoints":[1]})", R"({"version":1,"port":1})",
      R"({"config":{"a":1}})", R"({"config":[]})", "\xff\xfe"};
  for (const std::string& text : bad) {
    EXPECT_FALSE(DecodePartitionState(text).ok()) << text;
    EXPECT_FALSE(DecodeTopicAssignment(text).ok()) << text;
    EXPECT_FALSE(DecodeBroker(1, text).ok()) << text;
    EXPECT_FALSE(DecodeController(text).ok()) << text;
    EXPECT_FALSE(DecodeClusterId(text).ok()) << text;
  }
  EXPECT_FALSE(DecodeTopicConfig(R"({"config":{"a":1}})").ok());
  EXPECT_FALSE(DecodeControllerEpoch("").ok());
  EXPECT_FALSE(DecodeControllerEpoch("7x").ok());
  EXPECT_FALSE(DecodeControllerEpoch("99999999999").ok());
}

TEST(ZnodesTest, ConfigChangeNotificationRoundTrip) {
  EXPECT_EQ(ConfigChangePath(), "/config/changes/config_change_");
  const std::string encoded = EncodeConfigChange({"topics", "orders"});
  // Kafka's version-2 notification, byte for byte what its brokers expect.
  EXPECT_EQ(encoded, R"({"entity_path":"topics/orders","version":2})");
  auto c = DecodeConfigChange(encoded);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, (ConfigChange{"topics", "orders"}));
  // A user's client: the name keeps its own slashes.
  EXPECT_EQ(*DecodeConfigChange(R"({"version":2,"entity_path":"users/u/clients/c"})"),
            (ConfigChange{"users", "u/clients/c"}));
  // Version 1, as older tools write it.
  EXPECT_EQ(*DecodeConfigChange(
                R"({"version":1,"entity_type":"topics","entity_name":"orders"})"),
            (ConfigChange{"topics", "orders"}));
  for (const char* bad :
       {"", "{}", R"({"version":2})", R"({"version":2,"entity_path":"topics"})",
        R"({"version":2,"entity_path":"topics/"})", R"({"version":2,"entity_path":"/orders"})",
        R"({"version":1,"entity_type":"topics"})", R"({"version":3,"entity_path":"topics/t"})",
        R"({"version":2,"entity_path":7})"}) {
    EXPECT_FALSE(DecodeConfigChange(bad).ok()) << bad;
  }
  EXPECT_EQ(ConfigChangeSequence("config_change_0000000042"), 42);
  EXPECT_EQ(ConfigChangeSequence("config_change_0000000000"), 0);
  EXPECT_EQ(ConfigChangeSequence("config_change_"), std::nullopt);
  EXPECT_EQ(ConfigChangeSequence("config_change_12x"), std::nullopt);
  EXPECT_EQ(ConfigChangeSequence("other_0000000001"), std::nullopt);
}

}  // namespace
}  // namespace sluice::zk
