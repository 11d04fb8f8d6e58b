// __consumer_offsets, the topic the group coordinator keeps its state in:
// a client may not delete it, change its partition count (groups are mapped
// to partitions by that count) or give it a cleanup.policy without compact
// (retention would delete the offsets). Each attempt through librdkafka's
// admin API (IncrementalAlterConfigs, which librdkafka 2.0 cannot send, as a
// raw request), then the committed offsets are still there after a restart.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "api/admin_client.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/incremental_alter_configs.h"
#include "protocol/generated/metadata.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"
#include "support/temp_dir.h"

namespace sluice::testing {
namespace {

constexpr const char* kOffsets = "__consumer_offsets";
constexpr int kOffsetsPartitions = 3;

class InternalTopicsTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }

  void StartBroker() {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    options.overrides = {"offsets.topic.num.partitions=" + std::to_string(kOffsetsPartitions)};
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    bootstrap_ = broker_.host() + ":" + std::to_string(broker_.port());
    client_ = std::make_unique<KafkaClient>(bootstrap_);
    admin_ = std::make_unique<Admin>(bootstrap_);
  }

  void Restart() {
    admin_.reset();
    auto stopped = broker_.Stop();
    ASSERT_TRUE(stopped.ok());
    ASSERT_EQ(0, *stopped) << broker_.output();
    StartBroker();
  }

  std::unique_ptr<RdKafka::KafkaConsumer> Consumer(const std::string& group) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", bootstrap_, err);
    conf->set("group.id", group, err);
    conf->set("enable.auto.commit", "false", err);
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    EXPECT_TRUE(c) << err;
    return c;
  }

  // Commits `offset` of data-0 for `group`; the commit's error.
  RdKafka::ErrorCode Commit(const std::string& group, int64_t offset) {
    auto consumer = Consumer(group);
    std::vector<RdKafka::TopicPartition*> list = {
        RdKafka::TopicPartition::create("data", 0, offset)};
    const RdKafka::ErrorCode err = consumer->commitSync(list);
    RdKafka::TopicPartition::destroy(list);
    consumer->close();
    return err;
  }

  // The group's committed offset of data-0 (-1000 if the lookup failed).
  int64_t Committed(const std::string& group) {
    auto consumer = Consumer(group);
    std::vector<RdKafka::TopicPartition*> list = {RdKafka::TopicPartition::create("data", 0)};
    int64_t offset = -1000;
    if (consumer->committed(list, 10000) == RdKafka::ERR_NO_ERROR && list[0]->err() == 0) {
      offset = list[0]->offset();
    }
    RdKafka::TopicPartition::destroy(list);
    consumer->close();
    return offset;
  }

  int PartitionCount(const std::string& topic) {
    auto producer = client_->MakeProducer();
    std::string err;
    std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(producer.get(), topic, nullptr, err));
    RdKafka::Metadata* md = nullptr;
    if (producer->metadata(false, t.get(), &md, 10000) != RdKafka::ERR_NO_ERROR) return -1;
    int n = md->topics()->empty() ? -1 : static_cast<int>(md->topics()->at(0)->partitions()->size());
    delete md;
    return n;
  }

  int16_t IncrementalAlter(int8_t op, std::optional<std::string> value, bool validate_only) {
    protocol::IncrementalAlterConfigsRequest req;
    auto& res = req.resources.emplace_back();
    res.resource_type = 2;  // TOPIC
    res.resource_name = kOffsets;
    auto& c = res.configs.emplace_back();
    c.name = "cleanup.policy";
    c.config_operation = op;
    c.value = std::move(value);
    req.validate_only = validate_only;
    auto resp = RoundTrip<protocol::IncrementalAlterConfigsResponse>(broker_.port(), req, 1);
    EXPECT_EQ(1u, resp.responses.size());
    return resp.responses.empty() ? int16_t{-1000} : resp.responses[0].error_code;
  }

  TempDir data_;
  BrokerProcess broker_;
  std::string bootstrap_;
  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(InternalTopicsTest, OffsetsTopicRefusesDeletionRepartitioningAndLosingCompaction) {
  ASSERT_EQ(0, client_->CreateTopic("data", 1));
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, Commit("keeper", 3));
  ASSERT_EQ(3, Committed("keeper"));
  ASSERT_EQ(kOffsetsPartitions, PartitionCount(kOffsets));

  auto deleted = admin_->DeleteTopic(kOffsets);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, deleted.first) << deleted.second;
  // librdkafka 2.0 asks with a DeleteTopics version before error_message
  // (v5); the message, as a v6 client reads it:
  protocol::DeleteTopicsRequest del;
  del.topics.emplace_back().name = kOffsets;
  del.timeout_ms = 10000;
  auto del_resp = RoundTrip<protocol::DeleteTopicsResponse>(broker_.port(), del, 6);
  ASSERT_EQ(1u, del_resp.responses.size());
  EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, del_resp.responses[0].error_code);
  EXPECT_EQ("Topic __consumer_offsets is a kafka internal topic and is not allowed to be marked "
            "for deletion.",
            del_resp.responses[0].error_message);

  for (bool validate_only : {true, false}) {
    auto grown = admin_->CreatePartitions(kOffsets, kOffsetsPartitions + 1, validate_only);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, grown.first);
    EXPECT_EQ("The partition count of internal topic __consumer_offsets cannot be changed.",
              grown.second);
  }
  // Fewer partitions is refused as for any topic.
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, admin_->CreatePartitions(kOffsets, 1).first);

  const std::string no_compact =
      "Internal topic __consumer_offsets must keep cleanup.policy containing compact.";
  auto set_delete = admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, kOffsets, {{"cleanup.policy", "delete"}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_CONFIG, set_delete.error);
  EXPECT_EQ(no_compact, set_delete.message);
  // AlterConfigs replaces every override: leaving cleanup.policy out would
  // return it to the broker default, delete.
  auto omitted = admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, kOffsets, {{"retention.ms", "1000"}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_CONFIG, omitted.error);
  EXPECT_EQ(no_compact, omitted.message);
  EXPECT_EQ(0, admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, kOffsets,
                                    {{"cleanup.policy", "compact"}}, /*validate_only=*/true)
                   .error);

  constexpr int16_t kInvalidConfig = RD_KAFKA_RESP_ERR_INVALID_CONFIG;
  EXPECT_EQ(kInvalidConfig, IncrementalAlter(0, "delete", false));        // SET
  EXPECT_EQ(kInvalidConfig, IncrementalAlter(1, std::nullopt, false));    // DELETE
  EXPECT_EQ(kInvalidConfig, IncrementalAlter(3, "compact", false));       // SUBTRACT
  EXPECT_EQ(kInvalidConfig, IncrementalAlter(0, "delete", true));         // validate_only too
  EXPECT_EQ(0, IncrementalAlter(2, "delete", /*validate_only=*/true));    // APPEND keeps compact

  auto described = admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, kOffsets);
  EXPECT_EQ("compact", described.configs["cleanup.policy"].value);

  Restart();
  EXPECT_EQ(3, Committed("keeper"));
  EXPECT_EQ(kOffsetsPartitions, PartitionCount(kOffsets));
  EXPECT_EQ("compact",
            admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, kOffsets).configs["cleanup.policy"].value);
}

// A client may name __consumer_offsets in a Metadata request that allows
// auto-creation before any group exists; the broker must not make it then
// with the defaults of an ordinary topic (num.partitions, cleanup.policy
// delete), which would map groups to partitions by the wrong count and
// delete their offsets. The first group's FindCoordinator makes it.
TEST_F(InternalTopicsTest, AMetadataRequestDoesNotMakeTheOffsetsTopicAsAnOrdinaryOne) {
  protocol::MetadataRequest md;
  md.topics.emplace().emplace_back().name = kOffsets;
  md.allow_auto_topic_creation = true;
  auto answer = RoundTrip<protocol::MetadataResponse>(broker_.port(), md, 9);
  ASSERT_EQ(1u, answer.topics.size());
  EXPECT_EQ(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, answer.topics[0].error_code);
  EXPECT_TRUE(answer.topics[0].partitions.empty());

  ASSERT_EQ(0, client_->CreateTopic("data", 1));
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, Commit("first", 5));
  EXPECT_EQ(kOffsetsPartitions, PartitionCount(kOffsets));
  EXPECT_EQ("compact",
            admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, kOffsets).configs["cleanup.policy"].value);
  Restart();
  EXPECT_EQ(5, Committed("first"));
}

}  // namespace
}  // namespace sluice::testing
