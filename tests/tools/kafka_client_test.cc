#include "tools/kafka_client.h"

#include <gtest/gtest.h>

namespace sluice::tools {
namespace {

TEST(CommandStatusTest, KafkaErrorsNameTheCodeAndExitOne) {
  CommandStatus s = CommandStatus::Kafka(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                                         "Topic 'x' already exists.");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(kExitFailed, s.exit_code());
  EXPECT_EQ("TOPIC_ALREADY_EXISTS: Topic 'x' already exists.", s.message());
}

TEST(CommandStatusTest, MissingDetailFallsBackToLibrdkafkaText) {
  CommandStatus s = CommandStatus::Kafka(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  EXPECT_EQ(kExitFailed, s.exit_code());
  EXPECT_EQ(0u, s.message().find("UNKNOWN_TOPIC_OR_PART: "));
  EXPECT_LT(std::string("UNKNOWN_TOPIC_OR_PART: ").size(), s.message().size());
}

TEST(CommandStatusTest, TransportErrorsMeanUnreachable) {
  EXPECT_EQ(kExitUnreachable, CommandStatus::Kafka(RD_KAFKA_RESP_ERR__TRANSPORT).exit_code());
  EXPECT_EQ(kExitUnreachable, CommandStatus::Kafka(RD_KAFKA_RESP_ERR__TIMED_OUT).exit_code());
  EXPECT_EQ(kExitUnreachable,
            CommandStatus::Kafka(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN).exit_code());
}

TEST(CommandStatusTest, ParseErrorsAreUsageErrors) {
  EXPECT_TRUE(CommandStatus::FromStatus(Status::Ok()).ok());
  CommandStatus s = CommandStatus::FromStatus(Status::InvalidArgument("bad offset"));
  EXPECT_EQ(kExitUsage, s.exit_code());
  EXPECT_EQ("bad offset", s.message());
}

TEST(KafkaClientTest, BadPropertiesAreUsageErrors) {
  GlobalOptions global;
  std::unique_ptr<KafkaClient> client;
  global.properties = {"no.such.property=1"};
  CommandStatus s = KafkaClient::Open(global, KafkaClient::Role::kProducer, {}, &client);
  EXPECT_EQ(kExitUsage, s.exit_code());
  EXPECT_NE(std::string::npos, s.message().find("no.such.property")) << s.message();
  EXPECT_EQ(nullptr, client);

  global.properties = {"missing-equals"};
  EXPECT_EQ(kExitUsage,
            KafkaClient::Open(global, KafkaClient::Role::kConsumer, {}, &client).exit_code());
}

TEST(KafkaClientTest, UserPropertiesOverrideCommandSettings) {
  GlobalOptions global;
  global.properties = {"linger.ms=7"};
  std::unique_ptr<KafkaClient> client;
  ASSERT_TRUE(
      KafkaClient::Open(global, KafkaClient::Role::kProducer, {{"linger.ms", "3"}}, &client).ok());
  // Creating the handle does not contact a broker yet.
  char value[16];
  size_t size = sizeof value;
  ASSERT_EQ(RD_KAFKA_CONF_OK, rd_kafka_conf_get(rd_kafka_conf(client->get()), "linger.ms", value,
                                                &size));
  EXPECT_STREQ("7", value);
}

TEST(KafkaClientTest, FindTopicReportsUnknownTopics) {
  rd_kafka_metadata_topic_t topics[2] = {};
  topics[0].topic = const_cast<char*>("present");
  topics[1].topic = const_cast<char*>("broken");
  topics[1].err = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  rd_kafka_metadata_t md = {};
  md.topic_cnt = 2;
  md.topics = topics;

  const rd_kafka_metadata_topic_t* found = nullptr;
  ASSERT_TRUE(KafkaClient::FindTopic(md, "present", &found).ok());
  EXPECT_EQ(&topics[0], found);

  CommandStatus s = KafkaClient::FindTopic(md, "absent", &found);
  EXPECT_EQ(kExitFailed, s.exit_code());
  EXPECT_EQ("UNKNOWN_TOPIC_OR_PART: Topic 'absent' does not exist.", s.message());

  s = KafkaClient::FindTopic(md, "broken", &found);
  EXPECT_EQ(0u, s.message().find("TOPIC_AUTHORIZATION_FAILED: ")) << s.message();
}

}  // namespace
}  // namespace sluice::tools
