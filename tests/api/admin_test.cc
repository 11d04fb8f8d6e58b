// The admin APIs of the real sluice-broker binary: CreatePartitions,
// DescribeConfigs, AlterConfigs, DeleteRecords through librdkafka's admin C
// API; IncrementalAlterConfigs, OffsetForLeaderEpoch and DescribeLogDirs (which librdkafka
// 2.0 cannot send on its own) as raw protocol requests over TCP.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/admin_client.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/describe_log_dirs.h"
#include "protocol/generated/incremental_alter_configs.h"
#include "protocol/generated/offset_for_leader_epoch.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

constexpr int32_t kBrokerId = 7;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }

  void StartBroker() {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    options.overrides = {"broker.id=" + std::to_string(kBrokerId)};
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

  void ProduceN(const std::string& topic, int32_t partition, int n) {
    auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
    for (int i = 0; i < n; ++i) {
      auto r = ProduceSync(*producer, topic, partition, std::nullopt, "v" + std::to_string(i));
      ASSERT_EQ(RdKafka::ERR_NO_ERROR, r.err) << RdKafka::err2str(r.err);
    }
  }

  std::pair<int64_t, int64_t> Watermarks(const std::string& topic, int32_t partition) {
    auto producer = client_->MakeProducer();
    int64_t low = -1, high = -1;
    EXPECT_EQ(RdKafka::ERR_NO_ERROR,
              producer->query_watermark_offsets(topic, partition, &low, &high, 10000));
    return {low, high};
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

  TempDir data_;
  BrokerProcess broker_;
  std::string bootstrap_;
  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(AdminTest, CreatePartitionsAddsWritablePartitions) {
  ASSERT_EQ(0, client_->CreateTopic("grow", 1));
  // validate_only checks without changing anything.
  EXPECT_EQ(0, admin_->CreatePartitions("grow", 5, /*validate_only=*/true).first);
  EXPECT_EQ(1, PartitionCount("grow"));
  auto [err, msg] = admin_->CreatePartitions("grow", 3);
  ASSERT_EQ(0, err) << msg;
  EXPECT_EQ(3, PartitionCount("grow"));
  ProduceN("grow", 2, 3);
  auto got = client_->ConsumePartition("grow", 2, 3);
  ASSERT_EQ(3u, got.size());
  EXPECT_EQ("v2", got[2].value);
  // An assignment naming only this broker is what Kafka accepts too.
  EXPECT_EQ(0, admin_->CreatePartitions("grow", 4, false, {{kBrokerId}}).first);
  EXPECT_EQ(4, PartitionCount("grow"));
  // The count survives a restart, and the new partitions keep their data.
  Restart();
  EXPECT_EQ(4, PartitionCount("grow"));
  EXPECT_EQ(3u, client_->ConsumePartition("grow", 2, 3).size());
}

TEST_F(AdminTest, CreatePartitionsErrors) {
  ASSERT_EQ(0, client_->CreateTopic("three", 3));
  auto fewer = admin_->CreatePartitions("three", 2);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, fewer.first);
  EXPECT_EQ("Topic currently has 3 partitions, which is higher than the requested 2.", fewer.second);
  auto same = admin_->CreatePartitions("three", 3);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, same.first);
  EXPECT_EQ("Topic already has 3 partitions.", same.second);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, admin_->CreatePartitions("absent", 4).first);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT,
            admin_->CreatePartitions("three", 4, false, {{kBrokerId + 1}}).first);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT,
            admin_->CreatePartitions("three", 4, false, {{kBrokerId, kBrokerId}}).first);
  EXPECT_EQ(3, PartitionCount("three"));
}

TEST_F(AdminTest, CreateTopicWithAnAssignmentNamingThisBrokerCreatesEveryPartition) {
  // validate_only accepts it and creates nothing: the real request after it
  // still creates the topic.
  auto checked = admin_->CreateTopicAssigned("placed", {{kBrokerId}, {kBrokerId}, {kBrokerId}}, true);
  ASSERT_EQ(0, checked.first) << checked.second;
  auto created = admin_->CreateTopicAssigned("placed", {{kBrokerId}, {kBrokerId}, {kBrokerId}});
  ASSERT_EQ(0, created.first) << created.second;
  EXPECT_EQ(3, PartitionCount("placed"));
  ProduceN("placed", 2, 2);
  EXPECT_EQ(2u, client_->ConsumePartition("placed", 2, 2).size());
  EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
            admin_->CreateTopicAssigned("placed", {{kBrokerId}}).first);
}

TEST_F(AdminTest, CreateTopicWithAnAssignmentNamingAnotherBrokerIsRefused) {
  for (bool validate_only : {true, false}) {
    auto other = admin_->CreateTopicAssigned("elsewhere", {{kBrokerId}, {kBrokerId + 1}}, validate_only);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, other.first);
    EXPECT_EQ("The manual partition assignment includes broker 8, but no such broker is registered.",
              other.second);
    auto both = admin_->CreateTopicAssigned("elsewhere", {{kBrokerId + 1, kBrokerId}}, validate_only);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, both.first) << both.second;
    auto twice = admin_->CreateTopicAssigned("elsewhere", {{kBrokerId, kBrokerId}}, validate_only);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, twice.first);
    EXPECT_EQ("The manual partition assignment includes the broker 7 more than once.", twice.second);
    auto empty = admin_->CreateTopicAssigned("elsewhere", {{kBrokerId}, {}}, validate_only);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, empty.first);
    EXPECT_EQ("The manual partition assignment includes an empty replica list.", empty.second);
  }
  // None of them created the topic.
  EXPECT_EQ(0, admin_->CreateTopicAssigned("elsewhere", {{kBrokerId}}).first);
  EXPECT_EQ(1, PartitionCount("elsewhere"));
}

// What librdkafka cannot send (it numbers partitions itself and sends -1
// counts), as raw CreateTopics requests.
TEST_F(AdminTest, CreateTopicAssignmentShapeErrors) {
  auto create = [&](int32_t partitions, int16_t rf,
                    std::vector<std::pair<int32_t, std::vector<int32_t>>> assignments) {
    protocol::CreateTopicsRequest req;
    auto& t = req.topics.emplace_back();
    t.name = "shaped";
    t.num_partitions = partitions;
    t.replication_factor = rf;
    for (auto& [index, brokers] : assignments) {
      auto& a = t.assignments.emplace_back();
      a.partition_index = index;
      a.broker_ids = brokers;
    }
    auto resp = RoundTrip<protocol::CreateTopicsResponse>(broker_.port(), req, 7);
    EXPECT_EQ(1u, resp.topics.size());
    if (resp.topics.empty()) return std::make_pair(int16_t{-1000}, std::string());
    return std::make_pair(resp.topics[0].error_code, resp.topics[0].error_message.value_or(""));
  };
  const std::vector<int32_t> me = {kBrokerId};
  auto gap = create(-1, -1, {{0, me}, {2, me}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, gap.first);
  EXPECT_EQ("partitions should be a consecutive 0-based integer sequence", gap.second);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, create(-1, -1, {{1, me}}).first);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, create(-1, -1, {{-1, me}, {0, me}}).first);
  auto again = create(-1, -1, {{0, me}, {0, me}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, again.first);
  EXPECT_EQ("Found multiple manual partition assignments for partition 0", again.second);
  // Counts given next to an assignment: Kafka's controller answers
  // INVALID_REQUEST.
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REQUEST, create(1, -1, {{0, me}}).first);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REQUEST, create(-1, 1, {{0, me}}).first);
  // Out of order but complete is fine.
  auto shuffled = create(-1, -1, {{1, me}, {0, me}});
  EXPECT_EQ(0, shuffled.first) << shuffled.second;
  EXPECT_EQ(2, PartitionCount("shaped"));
}

TEST_F(AdminTest, AlterConfigsIsDescribedAndSurvivesRestart) {
  ASSERT_EQ(0, client_->CreateTopic("cfg", 1, 1, {{"cleanup.policy", "compact"}}));
  auto before = admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "cfg");
  ASSERT_EQ(0, before.error) << before.message;
  ASSERT_TRUE(before.configs.contains("retention.ms"));
  EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, before.configs["retention.ms"].source);
  EXPECT_EQ("604800000", before.configs["retention.ms"].value);
  EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG, before.configs["cleanup.policy"].source);

  // validate_only changes nothing.
  auto checked = admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "cfg", {{"retention.ms", "1234"}}, true);
  EXPECT_EQ(0, checked.error) << checked.message;
  EXPECT_EQ("604800000", admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "cfg").configs["retention.ms"].value);

  // Full replacement: cleanup.policy, not listed, returns to its default.
  auto altered = admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "cfg", {{"retention.ms", "86400000"}});
  ASSERT_EQ(0, altered.error) << altered.message;
  for (int round = 0; round < 2; ++round) {
    auto after = admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "cfg");
    ASSERT_EQ(0, after.error) << after.message;
    EXPECT_EQ("86400000", after.configs["retention.ms"].value) << "round " << round;
    EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG, after.configs["retention.ms"].source);
    EXPECT_FALSE(after.configs["retention.ms"].read_only);
    EXPECT_EQ("delete", after.configs["cleanup.policy"].value);
    EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, after.configs["cleanup.policy"].source);
    if (round == 0) Restart();
  }
}

TEST_F(AdminTest, AlteredMaxMessageBytesAppliesToTheLog) {
  ASSERT_EQ(0, client_->CreateTopic("big", 1, 1, {{"max.message.bytes", "20000"}}));
  auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  const std::string large(60000, 'x');
  EXPECT_EQ(RdKafka::ERR_MSG_SIZE_TOO_LARGE, ProduceSync(*producer, "big", 0, std::nullopt, large).err);
  ASSERT_EQ(0, admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "big", {{"max.message.bytes", "200000"}}).error);
  auto r = ProduceSync(*producer, "big", 0, std::nullopt, large);
  EXPECT_EQ(RdKafka::ERR_NO_ERROR, r.err) << RdKafka::err2str(r.err);
  EXPECT_EQ(0, r.offset);
  // After a restart the log is opened with the broker defaults, then given
  // the topic's settings again.
  producer.reset();
  Restart();
  producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  r = ProduceSync(*producer, "big", 0, std::nullopt, large);
  EXPECT_EQ(RdKafka::ERR_NO_ERROR, r.err) << RdKafka::err2str(r.err);
  EXPECT_EQ(1, r.offset);
}

TEST_F(AdminTest, ConfigErrors) {
  ASSERT_EQ(0, client_->CreateTopic("errs", 1));
  auto bad_value = admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "errs", {{"retention.ms", "soon"}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_CONFIG, bad_value.error);
  EXPECT_NE(std::string::npos, bad_value.message.find("retention.ms")) << bad_value.message;
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_CONFIG,
            admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "errs", {{"no.such.key", "1"}}).error);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            admin_->AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "absent", {{"retention.ms", "1"}}).error);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "absent").error);
  auto broker_alter = admin_->AlterConfigs(RD_KAFKA_RESOURCE_BROKER, std::to_string(kBrokerId),
                                           {{"log.retention.hours", "1"}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REQUEST, broker_alter.error);
  EXPECT_NE(std::string::npos, broker_alter.message.find("need a cluster")) << broker_alter.message;
}

TEST_F(AdminTest, DescribeBrokerConfigs) {
  auto mine = admin_->DescribeConfigs(RD_KAFKA_RESOURCE_BROKER, std::to_string(kBrokerId));
  ASSERT_EQ(0, mine.error) << mine.message;
  ASSERT_TRUE(mine.configs.contains("broker.id"));
  EXPECT_EQ(std::to_string(kBrokerId), mine.configs["broker.id"].value);
  EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG, mine.configs["broker.id"].source);
  ASSERT_TRUE(mine.configs.contains("log.retention.hours"));
  EXPECT_TRUE(mine.configs["log.retention.hours"].read_only);

  // Raw requests: other broker ids, the default resource, filters, v0 and
  // v3 fields.
  protocol::DescribeConfigsRequest req;
  auto& other = req.resources.emplace_back();
  other.resource_type = 4;
  other.resource_name = "99";
  other.configuration_keys = std::nullopt;
  auto& dflt = req.resources.emplace_back();
  dflt.resource_type = 4;
  dflt.resource_name = "";
  dflt.configuration_keys = std::nullopt;
  auto& logger = req.resources.emplace_back();
  logger.resource_type = 8;
  logger.resource_name = std::to_string(kBrokerId);
  auto& filtered = req.resources.emplace_back();
  filtered.resource_type = 4;
  filtered.resource_name = std::to_string(kBrokerId);
  filtered.configuration_keys = std::vector<std::string>{"broker.id", "num.partitions", "nope"};
  req.include_synonyms = true;
  req.include_documentation = true;
  for (int16_t version : {0, 1, 3, 4}) {
    auto resp = RoundTrip<protocol::DescribeConfigsResponse>(broker_.port(), req, version);
    ASSERT_EQ(4u, resp.results.size());
    EXPECT_EQ(42, resp.results[0].error_code) << "v" << version;  // INVALID_REQUEST
    EXPECT_EQ(0, resp.results[1].error_code);
    EXPECT_TRUE(resp.results[1].configs.empty());  // No dynamic default broker configs.
    EXPECT_EQ(42, resp.results[2].error_code);
    ASSERT_EQ(0, resp.results[3].error_code);
    ASSERT_EQ(2u, resp.results[3].configs.size());
    const auto& id = resp.results[3].configs[0].name == "broker.id" ? resp.results[3].configs[0]
                                                                     : resp.results[3].configs[1];
    EXPECT_EQ(std::to_string(kBrokerId), id.value);
    if (version == 0) {
      EXPECT_FALSE(id.is_default);  // Set by an override.
    } else {
      EXPECT_EQ(4, id.config_source);  // STATIC_BROKER_CONFIG
    }
    if (version >= 3) {
      EXPECT_EQ(3, id.config_type);  // INT
      EXPECT_TRUE(id.documentation.has_value());
    }
  }
}

TEST_F(AdminTest, IncrementalAlterConfigs) {
  ASSERT_EQ(0, client_->CreateTopic("inc", 1, 1, {{"retention.ms", "1000000"}}));
  auto request = [](std::vector<std::tuple<std::string, int8_t, std::optional<std::string>>> ops,
                    bool validate_only = false, std::string topic = "inc") {
    protocol::IncrementalAlterConfigsRequest req;
    auto& res = req.resources.emplace_back();
    res.resource_type = 2;
    res.resource_name = std::move(topic);
    for (auto& [name, op, value] : ops) {
      auto& c = res.configs.emplace_back();
      c.name = name;
      c.config_operation = op;
      c.value = value;
    }
    req.validate_only = validate_only;
    return req;
  };
  auto send = [&](const protocol::IncrementalAlterConfigsRequest& req, int16_t version = 1) {
    auto resp = RoundTrip<protocol::IncrementalAlterConfigsResponse>(broker_.port(), req, version);
    EXPECT_EQ(1u, resp.responses.size());
    return resp.responses.empty() ? int16_t{-1000} : resp.responses[0].error_code;
  };
  auto described = [&](const std::string& key) {
    return admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "inc").configs[key];
  };

  // SET one key; the other override stays (unlike AlterConfigs).
  EXPECT_EQ(0, send(request({{"segment.ms", 0, "3600000"}}), 0));
  EXPECT_EQ("3600000", described("segment.ms").value);
  EXPECT_EQ("1000000", described("retention.ms").value);
  // APPEND to the effective default ("delete"), then SUBTRACT.
  EXPECT_EQ(0, send(request({{"cleanup.policy", 2, "compact"}})));
  EXPECT_EQ("delete,compact", described("cleanup.policy").value);
  EXPECT_EQ(0, send(request({{"cleanup.policy", 3, "delete"}})));
  EXPECT_EQ("compact", described("cleanup.policy").value);
  // DELETE returns the key to the broker default.
  EXPECT_EQ(0, send(request({{"retention.ms", 1, std::nullopt}})));
  EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, described("retention.ms").source);
  // validate_only writes nothing.
  EXPECT_EQ(0, send(request({{"retention.ms", 0, "5"}}, true)));
  EXPECT_EQ("604800000", described("retention.ms").value);
  // All or nothing per resource: one bad op keeps the good one out.
  EXPECT_EQ(40, send(request({{"retention.ms", 0, "5"}, {"segment.ms", 0, "x"}})));  // INVALID_CONFIG
  EXPECT_EQ("604800000", described("retention.ms").value);
  EXPECT_EQ(40, send(request({{"retention.ms", 2, "5"}})));  // APPEND to a non-list key.
  EXPECT_EQ(42, send(request({{"retention.ms", 0, "5"}, {"retention.ms", 1, std::nullopt}})));
  EXPECT_EQ(42, send(request({{"retention.ms", 9, "5"}})));  // Unknown operation.
  EXPECT_EQ(3, send(request({{"retention.ms", 0, "5"}}, false, "absent")));
  // Survives a restart.
  Restart();
  EXPECT_EQ("compact", described("cleanup.policy").value);
  EXPECT_EQ("3600000", described("segment.ms").value);
}

// Concurrent edits of different keys of one topic: none is lost.
TEST_F(AdminTest, ConcurrentIncrementalAlterConfigsKeepEveryKey) {
  ASSERT_EQ(0, client_->CreateTopic("busy", 1));
  const std::vector<std::string> keys = {"retention.ms", "segment.ms", "flush.ms",
                                         "delete.retention.ms"};
  constexpr int kRounds = 25;
  std::vector<std::thread> threads;
  for (const std::string& key : keys) {
    threads.emplace_back([this, key] {
      for (int i = 1; i <= kRounds; ++i) {
        protocol::IncrementalAlterConfigsRequest req;
        auto& res = req.resources.emplace_back();
        res.resource_type = 2;
        res.resource_name = "busy";
        auto& c = res.configs.emplace_back();
        c.name = key;
        c.config_operation = 0;
        c.value = std::to_string(1000 + i);
        auto resp = RoundTrip<protocol::IncrementalAlterConfigsResponse>(broker_.port(), req, 1);
        ASSERT_EQ(1u, resp.responses.size());
        ASSERT_EQ(0, resp.responses[0].error_code) << key;
      }
    });
  }
  for (auto& t : threads) t.join();
  auto described = admin_->DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "busy");
  for (const std::string& key : keys) {
    EXPECT_EQ(std::to_string(1000 + kRounds), described.configs[key].value) << key;
  }
}

TEST_F(AdminTest, DeleteRecordsMovesTheLowWatermark) {
  ASSERT_EQ(0, client_->CreateTopic("trim", 2));
  ProduceN("trim", 0, 10);
  auto res = admin_->DeleteRecords("trim", {{0, 4}});
  ASSERT_EQ(1u, res.size());
  EXPECT_EQ(0, res[0].first);
  EXPECT_EQ(4, res[0].second);
  EXPECT_EQ(std::make_pair(int64_t{4}, int64_t{10}), Watermarks("trim", 0));

  // Reading from 0 is out of range now; earliest starts at the new low watermark.
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", bootstrap_, err);
    conf->set("group.id", "trim-reader", err);
    conf->set("enable.auto.commit", "false", err);
    conf->set("auto.offset.reset", "error", err);
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    ASSERT_TRUE(c) << err;
    std::vector<RdKafka::TopicPartition*> tps = {RdKafka::TopicPartition::create("trim", 0, 0)};
    c->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    bool out_of_range = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!out_of_range && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(c->consume(200));
      ASSERT_NE(RdKafka::ERR_NO_ERROR, m->err()) << "read offset " << m->offset();
      out_of_range = m->err() == RdKafka::ERR__AUTO_OFFSET_RESET ||
                     m->err() == RdKafka::ERR_OFFSET_OUT_OF_RANGE;
    }
    EXPECT_TRUE(out_of_range);
    c->close();
  }

  // -1 is the high watermark; above it is out of range; unknown partitions.
  res = admin_->DeleteRecords("trim", {{0, 20}});
  ASSERT_EQ(1u, res.size());
  EXPECT_EQ(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, res[0].first);
  res = admin_->DeleteRecords("trim", {{1, -1}});
  ASSERT_EQ(1u, res.size());
  EXPECT_EQ(0, res[0].first);
  EXPECT_EQ(0, res[0].second);  // Empty partition: HW 0.

  Restart();
  EXPECT_EQ(std::make_pair(int64_t{4}, int64_t{10}), Watermarks("trim", 0));
  res = admin_->DeleteRecords("trim", {{0, -1}});
  ASSERT_EQ(1u, res.size());
  EXPECT_EQ(0, res[0].first);
  EXPECT_EQ(10, res[0].second);
  EXPECT_EQ(std::make_pair(int64_t{10}, int64_t{10}), Watermarks("trim", 0));
}

TEST_F(AdminTest, DeleteRecordsRefusedOnCompactedTopic) {
  ASSERT_EQ(0, client_->CreateTopic("compacted", 1, 1, {{"cleanup.policy", "compact"}}));
  auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, ProduceSync(*producer, "compacted", 0, std::string("k"), std::string("v")).err);
  auto res = admin_->DeleteRecords("compacted", {{0, 1}});
  ASSERT_EQ(1u, res.size());
  EXPECT_EQ(RD_KAFKA_RESP_ERR_POLICY_VIOLATION, res[0].first);
}

TEST_F(AdminTest, OffsetForLeaderEpoch) {
  ASSERT_EQ(0, client_->CreateTopic("epochs", 1));
  ProduceN("epochs", 0, 5);
  protocol::OffsetForLeaderEpochRequest req;
  auto& t = req.topics.emplace_back();
  t.topic = "epochs";
  auto add = [&t](int32_t partition, int32_t current, int32_t epoch) {
    auto& p = t.partitions.emplace_back();
    p.partition = partition;
    p.current_leader_epoch = current;
    p.leader_epoch = epoch;
  };
  add(0, 0, 0);   // The current epoch: ends at the log end.
  add(0, -1, 3);  // Newer than any known: undefined.
  add(0, 2, 0);   // current_leader_epoch ahead of ours: UNKNOWN_LEADER_EPOCH.
  add(5, -1, 0);  // No such partition.
  for (int16_t version : {0, 2, 3, 4}) {
    auto resp = RoundTrip<protocol::OffsetForLeaderEpochResponse>(broker_.port(), req, version);
    ASSERT_EQ(1u, resp.topics.size());
    const auto& parts = resp.topics[0].partitions;
    ASSERT_EQ(4u, parts.size());
    EXPECT_EQ(0, parts[0].error_code) << "v" << version;
    EXPECT_EQ(5, parts[0].end_offset);
    if (version >= 1) {
      EXPECT_EQ(0, parts[0].leader_epoch);
    }
    EXPECT_EQ(0, parts[1].error_code);
    EXPECT_EQ(-1, parts[1].end_offset);
    EXPECT_EQ(version >= 2 ? 75 : 0, parts[2].error_code);  // v0/v1 carry no current epoch.
    EXPECT_EQ(3, parts[3].error_code);
  }
}

// DescribeLogDirs (raw protocol: librdkafka 2.0 has no call for it): the one
// log.dirs directory, absolute, with each partition held and its size; a
// null topic list means every partition, a named one only those asked for
// and held here; v4 adds the directory's total and usable bytes.
TEST_F(AdminTest, DescribeLogDirsListsPartitionsWithTheirSizes) {
  ASSERT_EQ(0, client_->CreateTopic("sized", 2));
  ASSERT_EQ(0, client_->CreateTopic("other", 1));
  ProduceN("sized", 1, 20);
  // A clean restart trims the active segment's preallocated tail, so the
  // files' sizes are the logs' sizes.
  Restart();
  const std::string dir = std::filesystem::absolute(data_.path()).lexically_normal().string();
  auto on_disk = [&](const std::string& partition_dir) {
    int64_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(data_.path() / partition_dir)) {
      if (f.path().extension() == ".log") bytes += static_cast<int64_t>(f.file_size());
    }
    return bytes;
  };
  for (int16_t version = 0; version <= 4; ++version) {
    SCOPED_TRACE("DescribeLogDirs v" + std::to_string(version));
    protocol::DescribeLogDirsRequest all;
    all.topics = std::nullopt;
    auto resp = RoundTrip<protocol::DescribeLogDirsResponse>(broker_.port(), all, version);
    EXPECT_EQ(0, resp.error_code);
    ASSERT_EQ(1u, resp.results.size());
    const auto& result = resp.results[0];
    EXPECT_EQ(0, result.error_code);
    EXPECT_EQ(dir, result.log_dir);
    if (version >= 4) {
      EXPECT_GT(result.total_bytes, 0);
      EXPECT_GT(result.usable_bytes, 0);
      EXPECT_LE(result.usable_bytes, result.total_bytes);
    } else {
      EXPECT_EQ(-1, result.total_bytes);  // Not in the wire format before v4.
    }
    std::map<std::string, std::map<int32_t, int64_t>> sizes;
    for (const auto& t : result.topics) {
      for (const auto& p : t.partitions) {
        sizes[t.name][p.partition_index] = p.partition_size;
        EXPECT_EQ(0, p.offset_lag) << t.name << "-" << p.partition_index;
        EXPECT_FALSE(p.is_future_key);
      }
    }
    ASSERT_TRUE(sizes.contains("sized"));
    ASSERT_TRUE(sizes.contains("other"));
    ASSERT_EQ(2u, sizes["sized"].size());
    EXPECT_EQ(on_disk("sized-1"), sizes["sized"][1]);
    EXPECT_GT(sizes["sized"][1], 20 * 2);  // Twenty records with their batch headers.
    EXPECT_EQ(on_disk("sized-0"), sizes["sized"][0]);

    protocol::DescribeLogDirsRequest some;
    auto& want = some.topics.emplace().emplace_back();
    want.topic = "sized";
    want.partitions = {1, 5};  // 5 is not a partition: left out.
    auto& unknown = some.topics->emplace_back();
    unknown.topic = "no-such-topic";
    unknown.partitions = {0};
    auto only = RoundTrip<protocol::DescribeLogDirsResponse>(broker_.port(), some, version);
    ASSERT_EQ(1u, only.results.size());
    ASSERT_EQ(1u, only.results[0].topics.size());
    EXPECT_EQ("sized", only.results[0].topics[0].name);
    ASSERT_EQ(1u, only.results[0].topics[0].partitions.size());
    EXPECT_EQ(1, only.results[0].topics[0].partitions[0].partition_index);
    EXPECT_EQ(sizes["sized"][1], only.results[0].topics[0].partitions[0].partition_size);
  }
}

}  // namespace
}  // namespace sluice::testing
