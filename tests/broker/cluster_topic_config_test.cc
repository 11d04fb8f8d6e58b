// Topic configs and auto-created topics in a ZooKeeper cluster: real
// ZooKeeper, real sluice-broker processes (support/cluster_fixture.h).
//
// A config altered through one broker is written to /config/topics/<t> with
// a change notification; every broker describes it from there and applies
// it to the replicas it hosts: retention deletes segments on the followers
// too, min.insync.replicas refuses acks=all writes on a leader that is not
// the broker asked, and a broker that was down meanwhile has the new config
// once it hosts the topic again. A Metadata request naming an unknown topic
// creates it with the brokers' num.partitions and default.replication.factor.
// Every wait is on observable state (ZooKeeper, files, answers), never a
// fixed sleep.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "api/admin_client.h"
#include "protocol/error_code.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/incremental_alter_configs.h"
#include "protocol/generated/metadata.h"
#include "support/cluster_fixture.h"
#include "support/kafka_client.h"
#include "support/wait_until.h"
#include "zk/znodes.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;
using protocol::ToWire;

constexpr int8_t kTopicResource = 2;
constexpr int8_t kSet = 0;

// IncrementalAlterConfigs SET of `configs` on `topic`, sent to `port`: the
// topic's error code.
int16_t IncrementalSet(uint16_t port, const std::string& topic,
                       const std::map<std::string, std::string>& configs,
                       bool validate_only = false) {
  protocol::IncrementalAlterConfigsRequest req;
  auto& res = req.resources.emplace_back();
  res.resource_type = kTopicResource;
  res.resource_name = topic;
  for (const auto& [name, value] : configs) {
    auto& c = res.configs.emplace_back();
    c.name = name;
    c.config_operation = kSet;
    c.value = value;
  }
  req.validate_only = validate_only;
  auto resp = RoundTrip<protocol::IncrementalAlterConfigsResponse>(port, req, 1);
  return resp.responses.size() == 1 ? resp.responses[0].error_code : int16_t{-1000};
}

struct Described {
  int16_t error = -1000;
  std::map<std::string, std::pair<std::optional<std::string>, int8_t>> rows;  // value, source

  std::optional<std::string> value(const std::string& key) const {
    auto it = rows.find(key);
    return it == rows.end() ? std::nullopt : it->second.first;
  }
  int8_t source(const std::string& key) const {
    auto it = rows.find(key);
    return it == rows.end() ? int8_t{-1} : it->second.second;
  }
};

// DescribeConfigs of `topic`, asked of the broker at `port` itself.
Described DescribeAt(uint16_t port, const std::string& topic) {
  protocol::DescribeConfigsRequest req;
  auto& res = req.resources.emplace_back();
  res.resource_type = kTopicResource;
  res.resource_name = topic;
  res.configuration_keys = std::nullopt;
  auto resp = RoundTrip<protocol::DescribeConfigsResponse>(port, req, 1);
  Described out;
  if (resp.results.size() != 1) return out;
  out.error = resp.results[0].error_code;
  for (const auto& row : resp.results[0].configs) {
    out.rows[row.name] = {row.value, row.config_source};
  }
  return out;
}

// Metadata v9 for `topics`, asked of the broker at `port`.
protocol::MetadataResponse MetadataAt(uint16_t port, const std::vector<std::string>& topics,
                                      bool allow_auto_create = true) {
  protocol::MetadataRequest req;
  req.topics.emplace();
  for (const std::string& t : topics) req.topics->emplace_back().name = t;
  req.allow_auto_topic_creation = allow_auto_create;
  return RoundTrip<protocol::MetadataResponse>(port, req, 9);
}

// The segment files (<20 digits>.log) of `topic`-`partition` under `log_dir`;
// a segment retention removed is renamed away at once.
size_t SegmentFiles(const std::filesystem::path& log_dir, const std::string& topic,
                    int32_t partition) {
  std::error_code ec;
  size_t n = 0;
  const auto dir = log_dir / fmt::format("{}-{}", topic, partition);
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 24 && name.ends_with(".log")) ++n;
  }
  return n;
}

std::vector<std::string> Children(BrokerCluster& cluster, const std::string& path) {
  auto zk = cluster.Session();
  if (!zk) return {};
  auto children = zk->GetChildren(path);
  return children.ok() ? *children : std::vector<std::string>{};
}

std::optional<zk::TopicAssignment> Assignment(BrokerCluster& cluster, const std::string& topic) {
  auto zk = cluster.Session();
  if (!zk) return std::nullopt;
  auto node = zk->Get(zk::TopicPath(topic));
  if (!node.ok()) return std::nullopt;
  auto a = zk::DecodeTopicAssignment(node->data);
  return a.ok() ? std::optional(*a) : std::nullopt;
}

std::map<std::string, std::string> StoredConfig(BrokerCluster& cluster, const std::string& topic) {
  auto zk = cluster.Session();
  if (!zk) return {};
  auto node = zk->Get(zk::TopicConfigPath(topic));
  if (!node.ok()) return {};
  auto config = zk::DecodeTopicConfig(node->data);
  return config.ok() ? *config : std::map<std::string, std::string>{};
}

// One acks=all message to partition 0 of `topic` without retries: the
// broker's answer is the delivery's error.
RdKafka::ErrorCode ProduceOnce(RdKafka::Producer& producer, const std::string& topic) {
  return ProduceSync(producer, topic, 0, std::nullopt, std::string(100, 'v')).err;
}

class ClusterTopicConfigTest : public ::testing::Test {
 protected:
  void StartCluster(BrokerClusterOptions options) {
    cluster_ = std::make_unique<BrokerCluster>(std::move(options));
    ASSERT_TRUE(cluster_->Start().ok()) << cluster_->Outputs();
  }
  void TearDown() override {
    if (cluster_) {
      EXPECT_TRUE(cluster_->StopBrokers().ok()) << cluster_->Outputs();
    }
  }
  uint16_t port(int32_t id) { return cluster_->broker(id).port(); }
  std::string bootstrap(int32_t id) {
    return fmt::format("{}:{}", cluster_->broker(id).host(), port(id));
  }
  // Waits until every partition of `topic` has a leader and `isr` (sorted).
  bool WaitForIsr(const std::string& topic, int partitions, std::set<int32_t> isr) {
    return WaitUntil([&] {
      for (int32_t p = 0; p < partitions; ++p) {
        auto s = cluster_->State(topic, p);
        if (!s || s->leader < 0) return false;
        if (std::set<int32_t>(s->isr.begin(), s->isr.end()) != isr) return false;
      }
      return true;
    }, 60s);
  }

  std::unique_ptr<BrokerCluster> cluster_;
};

// (a) retention.ms and cleanup.policy altered through broker 1 are what
// brokers 2 and 3 describe, and retention deletes segments on every replica.
TEST_F(ClusterTopicConfigTest, AChangeThroughOneBrokerIsDescribedAndAppliedEverywhere) {
  StartCluster({.overrides = {"log.retention.check.interval.ms=100"}});
  const std::string topic = "cfg";
  KafkaClient client(bootstrap(1));
  // Small segments from the start, so that a few writes fill several on
  // every replica.
  ASSERT_EQ(0, client.CreateTopic(topic, {{2, 3, 1}}, {{"segment.bytes", "1024"}}));
  ASSERT_TRUE(WaitForIsr(topic, 1, {1, 2, 3})) << cluster_->Outputs();
  auto producer = client.MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  for (int i = 0; i < 40; ++i) ASSERT_EQ(RdKafka::ERR_NO_ERROR, ProduceOnce(*producer, topic));
  for (int32_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(WaitUntil([&] { return SegmentFiles(cluster_->LogDir(id), topic, 0) >= 3; }))
        << "broker " << id << " has " << SegmentFiles(cluster_->LogDir(id), topic, 0);
  }

  const size_t notifications = Children(*cluster_, "/config/changes").size();
  // validate_only writes nothing: no config, no notification.
  ASSERT_EQ(0, IncrementalSet(port(1), topic, {{"retention.ms", "1"}}, /*validate_only=*/true));
  EXPECT_NE(std::optional<std::string>("1"), DescribeAt(port(2), topic).value("retention.ms"));
  EXPECT_EQ(notifications, Children(*cluster_, "/config/changes").size());

  ASSERT_EQ(0, IncrementalSet(port(1), topic, {{"retention.ms", "1"}}));
  // ZooKeeper holds the whole override map, and a notification names the topic.
  EXPECT_EQ((std::map<std::string, std::string>{{"retention.ms", "1"}, {"segment.bytes", "1024"}}),
            StoredConfig(*cluster_, topic));
  const std::vector<std::string> changes = Children(*cluster_, "/config/changes");
  ASSERT_EQ(notifications + 1, changes.size());
  {
    auto zk = cluster_->Session();
    ASSERT_NE(zk, nullptr);
    auto node = zk->Get("/config/changes/" + changes.back());
    ASSERT_TRUE(node.ok());
    auto change = zk::DecodeConfigChange(node->data);
    ASSERT_TRUE(change.ok());
    EXPECT_EQ((zk::ConfigChange{"topics", topic}), *change);
  }
  // Every broker describes the cluster's value, as an override.
  for (int32_t id = 1; id <= 3; ++id) {
    Described d = DescribeAt(port(id), topic);
    EXPECT_EQ(0, d.error) << "broker " << id;
    EXPECT_EQ("1", d.value("retention.ms")) << "broker " << id;
    EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG, d.source("retention.ms"));
    EXPECT_EQ("1024", d.value("segment.bytes")) << "broker " << id;
  }
  // And applies it: retention leaves only the active segment, on the
  // leader (2) and on both followers.
  for (int32_t id = 1; id <= 3; ++id) {
    EXPECT_TRUE(WaitUntil([&] { return SegmentFiles(cluster_->LogDir(id), topic, 0) == 1; }))
        << "broker " << id << " keeps " << SegmentFiles(cluster_->LogDir(id), topic, 0)
        << " segments\n" << cluster_->Outputs();
  }

  // AlterConfigs (librdkafka) replaces the whole map.
  {
    Admin admin(bootstrap(1));
    auto altered = admin.AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, topic, {{"cleanup.policy", "compact"}});
    EXPECT_EQ(0, altered.error) << altered.message;
  }
  EXPECT_EQ((std::map<std::string, std::string>{{"cleanup.policy", "compact"}}),
            StoredConfig(*cluster_, topic));
  for (int32_t id = 2; id <= 3; ++id) {
    Described d = DescribeAt(port(id), topic);
    EXPECT_EQ("compact", d.value("cleanup.policy")) << "broker " << id;
    EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, d.source("retention.ms")) << "broker " << id;
  }

  // Refusals: a bad value, an unknown topic (write nothing).
  EXPECT_EQ(ToWire(ErrorCode::INVALID_CONFIG),
            IncrementalSet(port(2), topic, {{"retention.ms", "soon"}}));
  EXPECT_EQ(ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
            IncrementalSet(port(2), "absent", {{"retention.ms", "1"}}));
  EXPECT_EQ(ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION), DescribeAt(port(3), "absent").error);
  EXPECT_EQ((std::map<std::string, std::string>{{"cleanup.policy", "compact"}}),
            StoredConfig(*cluster_, topic));
}

// (a) min.insync.replicas altered through broker 1 is enforced by the
// leader, broker 2; (b) broker 3, down while another topic's config
// changed, enforces the new one once it hosts that topic again.
TEST_F(ClusterTopicConfigTest, MinInsyncReplicasReachesTheLeaderAndADownBrokerOnRestart) {
  StartCluster({.overrides = {"default.replication.factor=3"}});
  {
    Admin admin(bootstrap(1));
    auto created = admin.CreateTopicAssigned("isr", {{2, 3, 1}});
    ASSERT_EQ(0, created.first) << created.second;
    created = admin.CreateTopicAssigned("solo", {{3}});
    ASSERT_EQ(0, created.first) << created.second;
  }
  ASSERT_TRUE(WaitForIsr("isr", 1, {1, 2, 3})) << cluster_->Outputs();
  ASSERT_TRUE(WaitForIsr("solo", 1, {3})) << cluster_->Outputs();
  ASSERT_EQ(2, cluster_->State("isr", 0)->leader);

  KafkaClient client(cluster_->Bootstrap());
  auto producer = client.MakeProducer({{"acks", "all"}, {"retries", "0"}, {"linger.ms", "0"}});
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, ProduceOnce(*producer, "solo"));

  // Broker 3 goes: "isr" keeps 2 of its replicas, "solo" has none.
  cluster_->broker(3).Kill();
  ASSERT_TRUE(WaitForIsr("isr", 1, {1, 2})) << cluster_->Outputs();
  ASSERT_EQ(2, cluster_->State("isr", 0)->leader);
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, ProduceOnce(*producer, "isr"));

  // Through broker 1, which leads neither.
  ASSERT_EQ(0, IncrementalSet(port(1), "isr", {{"min.insync.replicas", "3"}}));
  ASSERT_EQ(0, IncrementalSet(port(1), "solo", {{"min.insync.replicas", "2"}}));
  EXPECT_EQ("3", DescribeAt(port(2), "isr").value("min.insync.replicas"));

  // Broker 2 applies it as the notification reaches it: its ISR of 2 is
  // now too small.
  RdKafka::ErrorCode last = RdKafka::ERR_NO_ERROR;
  EXPECT_TRUE(WaitUntil([&] {
    last = ProduceOnce(*producer, "isr");
    return last == RdKafka::ERR_NOT_ENOUGH_REPLICAS;
  })) << RdKafka::err2str(last) << "\n" << cluster_->Outputs();

  // An unknown topic needing 3 live brokers cannot be auto-created with 2.
  auto refused = MetadataAt(port(1), {"needs-three"});
  ASSERT_EQ(1u, refused.topics.size());
  EXPECT_EQ(ToWire(ErrorCode::INVALID_REPLICATION_FACTOR), refused.topics[0].error_code);
  EXPECT_FALSE(Assignment(*cluster_, "needs-three").has_value());

  // Broker 3 comes back: it missed both notifications, and reads "solo"'s
  // config as it hosts the topic again; its only replica now refuses
  // acks=all (an ISR of 1 < 2).
  ASSERT_TRUE(cluster_->StartBroker(3).ok()) << cluster_->Outputs();
  ASSERT_TRUE(WaitForIsr("solo", 1, {3})) << cluster_->Outputs();
  EXPECT_EQ(RdKafka::ERR_NOT_ENOUGH_REPLICAS, ProduceOnce(*producer, "solo"))
      << cluster_->broker(3).output();
  // With broker 3 in "isr"'s ISR again, 3 replicas satisfy it.
  ASSERT_TRUE(WaitForIsr("isr", 1, {1, 2, 3})) << cluster_->Outputs();
  EXPECT_TRUE(WaitUntil([&] {
    last = ProduceOnce(*producer, "isr");
    return last == RdKafka::ERR_NO_ERROR;
  })) << RdKafka::err2str(last);
}

// A producer and a consumer of a new topic through broker 2: the first
// Metadata creates it with num.partitions and default.replication.factor,
// answering LEADER_NOT_AVAILABLE until the controller has elected leaders.
TEST_F(ClusterTopicConfigTest, MetadataAutoCreatesTopicsInTheCluster) {
  StartCluster({.overrides = {"num.partitions=2", "default.replication.factor=3"}});

  auto first = MetadataAt(port(2), {"auto-raw"});
  ASSERT_EQ(1u, first.topics.size());
  EXPECT_EQ(ToWire(ErrorCode::LEADER_NOT_AVAILABLE), first.topics[0].error_code);
  auto assignment = Assignment(*cluster_, "auto-raw");
  ASSERT_TRUE(assignment.has_value());
  ASSERT_EQ(2u, assignment->partitions.size());
  for (const auto& [p, replicas] : assignment->partitions) {
    EXPECT_EQ(3u, std::set<int32_t>(replicas.begin(), replicas.end()).size()) << p;
  }
  ASSERT_TRUE(WaitForIsr("auto-raw", 2, {1, 2, 3})) << cluster_->Outputs();
  EXPECT_TRUE(WaitUntil([&] {
    auto again = MetadataAt(port(3), {"auto-raw"});
    return again.topics.size() == 1 && again.topics[0].error_code == 0 &&
           again.topics[0].partitions.size() == 2;
  }));

  // The request can refuse: nothing is created.
  auto refused = MetadataAt(port(2), {"not-wanted"}, /*allow_auto_create=*/false);
  ASSERT_EQ(1u, refused.topics.size());
  EXPECT_EQ(ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION), refused.topics[0].error_code);
  EXPECT_FALSE(Assignment(*cluster_, "not-wanted").has_value());
  // Invalid names are refused as such.
  auto invalid = MetadataAt(port(2), {"bad name"});
  ASSERT_EQ(1u, invalid.topics.size());
  EXPECT_EQ(ToWire(ErrorCode::INVALID_TOPIC_EXCEPTION), invalid.topics[0].error_code);

  // librdkafka: produce to a topic nobody created, through broker 2 alone.
  const std::string topic = "auto-client";
  KafkaClient client(bootstrap(2));
  auto producer = client.MakeProducer({{"acks", "all"}});
  std::vector<DeliveryResult> results(10);
  for (int i = 0; i < 10; ++i) {
    const std::string value = fmt::format("m{}", i);
    ASSERT_EQ(RdKafka::ERR_NO_ERROR,
              producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(value.data()), value.size(), nullptr, 0, 0,
                                &results[static_cast<size_t>(i)]));
  }
  producer->flush(60000);
  producer->poll(0);
  for (const DeliveryResult& r : results) {
    EXPECT_TRUE(r.done);
    EXPECT_EQ(RdKafka::ERR_NO_ERROR, r.err) << RdKafka::err2str(r.err);
  }
  auto made = Assignment(*cluster_, topic);
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(2u, made->partitions.size());
  for (const auto& [p, replicas] : made->partitions) EXPECT_EQ(3u, replicas.size()) << p;
  auto consumed = client.ConsumeAll(topic, 2, 10);
  std::multiset<std::string> values;
  for (const ConsumedMessage& m : consumed) values.insert(m.value.value_or(""));
  std::multiset<std::string> expected;
  for (int i = 0; i < 10; ++i) expected.insert(fmt::format("m{}", i));
  EXPECT_EQ(expected, values);
}

TEST_F(ClusterTopicConfigTest, NoAutoCreationWhenTheBrokersDisableIt) {
  StartCluster({.brokers = 1, .overrides = {"auto.create.topics.enable=false"}});
  auto answer = MetadataAt(port(1), {"never"});
  ASSERT_EQ(1u, answer.topics.size());
  EXPECT_EQ(ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION), answer.topics[0].error_code);
  EXPECT_FALSE(Assignment(*cluster_, "never").has_value());
}

}  // namespace
}  // namespace sluice::testing
