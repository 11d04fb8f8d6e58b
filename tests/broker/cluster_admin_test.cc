// CreateTopics, CreatePartitions and DeleteTopics in a ZooKeeper cluster, and
// the controller running in the broker: real ZooKeeper, three real
// sluice-broker processes, asked by librdkafka's admin API (which sends to
// the controller) and by raw CreateTopics requests to a broker that is not
// the controller. What the brokers write and the controller decides is read
// back from ZooKeeper; every wait is on ZooKeeper state, none a fixed sleep.
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "network/test_client.h"
#include "protocol/api_registry.h"
#include "protocol/error_code.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/response_header.h"
#include "protocol/header.h"
#include "support/broker_process.h"
#include "support/cluster_znodes.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;
using protocol::ToWire;

constexpr char kChroot[] = "/sluice";
constexpr int kSessionTimeoutMs = 3000;
// A kill -9 is noticed after the session timeout plus the server's expiry
// tick; then the controller decides. Room for a loaded machine.
constexpr auto kFailoverTimeout = std::chrono::milliseconds(kSessionTimeoutMs) + 20s;

using Assignment = std::map<int32_t, std::vector<int32_t>>;

// One admin result: librdkafka's error code (the broker's Kafka code) and message.
struct Answer {
  int code = -1;
  std::string message;
};

// Runs one admin call on a temporary librdkafka handle bootstrapped from
// `port` (librdkafka sends it to the controller it learns from Metadata).
template <typename Launch, typename Extract>
Answer RunAdmin(uint16_t port, rd_kafka_event_type_t type, Launch launch, Extract extract,
                bool validate_only = false) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string bootstrap = fmt::format("127.0.0.1:{}", port);
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return {-1000, errstr};
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
  rd_kafka_AdminOptions_set_request_timeout(opts, 20000, nullptr, 0);
  // As kafka-topics.sh does: the broker answers once the new partitions
  // have leaders (or this passes).
  rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, nullptr, 0);
  if (validate_only) rd_kafka_AdminOptions_set_validate_only(opts, 1, nullptr, 0);
  launch(rk, opts, q);
  Answer answer{-1001, "no result"};
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev != nullptr) {
    if (rd_kafka_event_type(ev) == type) {
      if (rd_kafka_event_error(ev)) {
        answer = {rd_kafka_event_error(ev), rd_kafka_event_error_string(ev)};
      } else {
        answer = extract(ev);
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return answer;
}

Answer TopicResult(const rd_kafka_topic_result_t** res, size_t n) {
  if (n != 1) return {-1003, "not one result"};
  const char* message = rd_kafka_topic_result_error_string(res[0]);
  return {rd_kafka_topic_result_error(res[0]), message != nullptr ? message : ""};
}

Answer CreateTopic(uint16_t port, const std::string& topic, int partitions, int rf,
                   const std::map<std::string, std::string>& configs = {},
                   const Assignment& assignment = {}, bool validate_only = false) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, rf, errstr, sizeof(errstr));
  if (nt == nullptr) return {-1002, errstr};
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  for (const auto& [p, replicas] : assignment) {
    if (rd_kafka_NewTopic_set_replica_assignment(nt, p, const_cast<int32_t*>(replicas.data()),
                                                 replicas.size(), errstr, sizeof(errstr)) != 0) {
      rd_kafka_NewTopic_destroy(nt);
      return {-1002, errstr};
    }
  }
  Answer answer = RunAdmin(
      port, RD_KAFKA_EVENT_CREATETOPICS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
      },
      [](rd_kafka_event_t* ev) {
        size_t n = 0;
        auto res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        return TopicResult(res, n);
      },
      validate_only);
  rd_kafka_NewTopic_destroy(nt);
  return answer;
}

Answer CreatePartitions(uint16_t port, const std::string& topic, int total) {
  char errstr[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof(errstr));
  if (np == nullptr) return {-1002, errstr};
  Answer answer = RunAdmin(
      port, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        rd_kafka_CreatePartitions(rk, &np, 1, opts, q);
      },
      [](rd_kafka_event_t* ev) {
        size_t n = 0;
        auto res = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &n);
        return TopicResult(res, n);
      });
  rd_kafka_NewPartitions_destroy(np);
  return answer;
}

Answer DeleteTopic(uint16_t port, const std::string& topic) {
  rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
  Answer answer = RunAdmin(
      port, RD_KAFKA_EVENT_DELETETOPICS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        rd_kafka_DeleteTopics(rk, &dt, 1, opts, q);
      },
      [](rd_kafka_event_t* ev) {
        size_t n = 0;
        auto res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        return TopicResult(res, n);
      });
  rd_kafka_DeleteTopic_destroy(dt);
  return answer;
}

// A raw CreateTopics (v5) to exactly the broker at `port`.
// One request over a plain connection, its response decoded.
template <typename Request, typename Response>
std::optional<Response> RawCall(uint16_t port, const Request& request, int16_t version) {
  network::testing::TestClient client(port);
  if (!client.connected()) return std::nullopt;
  protocol::RequestHeader header;
  header.request_api_key = Request::kApiKey;
  header.request_api_version = version;
  header.correlation_id = 11;
  header.client_id = "cluster-admin-test";
  if (!client.SendFrame(protocol::EncodeRequest(header, request))) return std::nullopt;
  auto frame = client.ReadFrame(30000);
  if (!frame) return std::nullopt;
  protocol::Reader in(*frame);
  protocol::ResponseHeader response_header;
  Response response;
  if (!response_header.Decode(in, protocol::ResponseHeaderVersion(Request::kApiKey, version)).ok() ||
      !response.Decode(in, version).ok()) {
    return std::nullopt;
  }
  return response;
}

std::optional<protocol::CreateTopicsResponse> RawCreateTopics(
    uint16_t port, const protocol::CreateTopicsRequest& request) {
  return RawCall<protocol::CreateTopicsRequest, protocol::CreateTopicsResponse>(port, request, 5);
}

// Partition -> leader of `topic` in `port`'s Metadata answer (-1: none).
std::map<int32_t, int32_t> MetadataLeaders(uint16_t port, const std::string& topic) {
  protocol::MetadataRequest request;
  request.topics.emplace().emplace_back().name = topic;
  auto response = RawCall<protocol::MetadataRequest, protocol::MetadataResponse>(port, request, 9);
  std::map<int32_t, int32_t> leaders;
  if (!response || response->topics.empty()) return leaders;
  for (const auto& p : response->topics[0].partitions) leaders[p.partition_index] = p.leader_id;
  return leaders;
}

class ClusterAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id).ok());
    zk_client_ = Observer();
    ASSERT_NE(zk_client_, nullptr);
    // Every broker registered and a controller elected.
    ASSERT_TRUE(WaitUntil([&] { return LiveIds() == std::set<int32_t>{1, 2, 3} && Controller() > 0; }));
  }

  std::string Connect() const { return zk_.connect_string() + kChroot; }

  // Broker `id` on `port` (0: any free one).
  Status StartBroker(int32_t id, uint16_t port = 0) {
    BrokerProcessOptions options;
    options.default_listener = false;
    options.log_dir = dirs_[static_cast<size_t>(id - 1)].path() / "data";
    options.overrides = {fmt::format("listeners=PLAINTEXT://127.0.0.1:{}", port),
                         "log.dirs=" + options.log_dir.string(),
                         fmt::format("broker.id={}", id),
                         "zookeeper.connect=" + Connect(),
                         fmt::format("zookeeper.session.timeout.ms={}", kSessionTimeoutMs),
                         "sluice.metrics.listener="};
    return brokers_[static_cast<size_t>(id - 1)].Start(options);
  }
  BrokerProcess& broker(int32_t id) { return brokers_[static_cast<size_t>(id - 1)]; }

  std::unique_ptr<zk::ZkClient> Observer() {
    zk::ZkOptions o;
    o.connect = Connect();
    auto c = zk::ZkClient::Connect(o);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::set<int32_t> LiveIds() { return LiveBrokerIds(*zk_client_); }
  int32_t Controller() { return ControllerId(*zk_client_); }
  int32_t NonController() {
    const int32_t c = Controller();
    return c == 1 ? 2 : 1;
  }

  std::optional<zk::TopicAssignment> TopicAssignment(const std::string& topic) {
    auto node = zk_client_->Get(zk::TopicPath(topic));
    if (!node.ok()) return std::nullopt;
    auto a = zk::DecodeTopicAssignment(node->data);
    return a.ok() ? std::optional(*a) : std::nullopt;
  }
  std::optional<zk::PartitionState> State(const std::string& topic, int32_t p) {
    return ReadPartitionState(*zk_client_, topic, p);
  }
  // Waits until every partition of `topic` (by its assignment) has a state;
  // returns them.
  std::map<int32_t, zk::PartitionState> WaitForStates(const std::string& topic,
                                                      size_t partitions) {
    std::map<int32_t, zk::PartitionState> states;
    EXPECT_TRUE(WaitUntil([&] {
      states.clear();
      for (int32_t p = 0; p < static_cast<int32_t>(partitions); ++p) {
        auto s = State(topic, p);
        if (!s) return false;
        states[p] = *s;
      }
      return true;
    })) << "partition states of " << topic << " never all appeared";
    return states;
  }
  bool Exists(const std::string& path) {
    auto stat = zk_client_->Exists(path);
    return stat.ok() && stat->has_value();
  }

  // A topic of 6 partitions, factor 3, created through a raw request to a
  // broker that is not the controller; waits for its partition states.
  std::map<int32_t, zk::PartitionState> CreateSixPartitions(const std::string& topic) {
    protocol::CreateTopicsRequest request;
    auto& t = request.topics.emplace_back();
    t.name = topic;
    t.num_partitions = 6;
    t.replication_factor = 3;
    auto response = RawCreateTopics(broker(NonController()).port(), request);
    EXPECT_TRUE(response.has_value());
    if (response) {
      EXPECT_EQ(response->topics.at(0).error_code, 0) << *response->topics.at(0).error_message;
    }
    return WaitForStates(topic, 6);
  }

  ZooKeeperEnsemble zk_{1};
  TempDir dirs_[3];
  std::unique_ptr<zk::ZkClient> zk_client_;
  // Declared last: destroyed (killed) first, before ZooKeeper and their data.
  BrokerProcess brokers_[3];
};

TEST_F(ClusterAdminTest, ANonControllerCreatesTheTopicAndTheControllerElectsItsLeaders) {
  const int32_t asked = NonController();
  ASSERT_NE(asked, Controller());
  protocol::CreateTopicsRequest request;
  auto& t = request.topics.emplace_back();
  t.name = "orders";
  t.num_partitions = 6;
  t.replication_factor = 3;
  auto& c = t.configs.emplace_back();
  c.name = "retention.ms";
  c.value = "123456";
  request.timeout_ms = 30000;
  auto response = RawCreateTopics(broker(asked).port(), request);
  ASSERT_TRUE(response.has_value());
  const auto& r = response->topics.at(0);
  ASSERT_EQ(r.error_code, 0) << r.error_message.value_or("");
  // Answered only once the controller's leaders reached the broker asked,
  // as Kafka answers: its Metadata names a leader for every partition at once.
  auto leaders_at_answer = MetadataLeaders(broker(asked).port(), "orders");
  ASSERT_EQ(leaders_at_answer.size(), 6U);
  for (const auto& [p, leader] : leaders_at_answer) EXPECT_GE(leader, 1) << "partition " << p;
  EXPECT_EQ(r.num_partitions, 6);
  EXPECT_EQ(r.replication_factor, 3);
  ASSERT_TRUE(r.configs.has_value());
  bool retention_seen = false;
  for (const auto& config : *r.configs) {
    if (config.name == "retention.ms") {
      retention_seen = true;
      EXPECT_EQ(config.value, "123456");
    }
  }
  EXPECT_TRUE(retention_seen);

  // The assignment: even (Kafka's walk over 3 brokers, 6 partitions).
  auto assignment = TopicAssignment("orders");
  ASSERT_TRUE(assignment.has_value());
  EXPECT_FALSE(assignment->topic_id.empty());
  ASSERT_EQ(assignment->partitions.size(), 6U);
  std::map<int32_t, int> preferred, replicas;
  for (const auto& [p, list] : assignment->partitions) {
    ASSERT_EQ(list.size(), 3U) << "partition " << p;
    EXPECT_EQ(std::set<int32_t>(list.begin(), list.end()), (std::set<int32_t>{1, 2, 3}));
    ++preferred[list.front()];
    for (int32_t b : list) ++replicas[b];
  }
  EXPECT_EQ(preferred, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  EXPECT_EQ(replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}}));
  // The config, as Kafka writes it.
  auto config = zk_client_->Get(zk::TopicConfigPath("orders"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*zk::DecodeTopicConfig(config->data),
            (std::map<std::string, std::string>{{"retention.ms", "123456"}}));

  // The controller (another broker) made every partition's state: the
  // preferred replica leads, all three in the ISR.
  auto states = WaitForStates("orders", 6);
  std::map<int32_t, int> leaders;
  for (const auto& [p, s] : states) {
    SCOPED_TRACE(fmt::format("partition {}", p));
    EXPECT_EQ(s.leader, assignment->partitions[p].front());
    std::vector<int32_t> isr = s.isr;
    std::sort(isr.begin(), isr.end());
    EXPECT_EQ(isr, (std::vector<int32_t>{1, 2, 3}));
    ++leaders[s.leader];
  }
  EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));

  // The same name again, to the same broker: refused.
  auto again = RawCreateTopics(broker(asked).port(), request);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->topics.at(0).error_code, ToWire(ErrorCode::TOPIC_ALREADY_EXISTS));
}

TEST_F(ClusterAdminTest, RefusalsCarryKafkasCodes) {
  const uint16_t port = broker(1).port();
  ASSERT_EQ(CreateTopic(port, "taken", 3, 2).code, 0);

  Answer a = CreateTopic(port, "too-many-replicas", 3, 4);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR) << a.message;
  EXPECT_NE(a.message.find("larger than available brokers: 3"), std::string::npos) << a.message;

  a = CreateTopic(port, "taken", 3, 2);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) << a.message;

  a = CreateTopic(port, "ghost-broker", 2, -1, {}, {{0, {1, 9}}, {1, {2, 3}}});
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT) << a.message;
  a = CreateTopic(port, "twice", 1, -1, {}, {{0, {2, 2}}});
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT) << a.message;

  a = CreateTopic(port, "bad name!", 1, 1);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) << a.message;
  a = CreateTopic(port, "tak.en", 1, 1);  // Unlike "tak_en", it does not collide with "taken".
  EXPECT_EQ(a.code, 0) << a.message;
  a = CreateTopic(port, "tak_en", 1, 1);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) << a.message;

  a = CreateTopic(port, "bad-config", 1, 1, {{"retention.ms", "soon"}});
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_INVALID_CONFIG) << a.message;
  a = CreateTopic(port, "unknown-config", 1, 1, {{"no.such.key", "1"}});
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_INVALID_CONFIG) << a.message;

  // validate_only writes nothing.
  a = CreateTopic(port, "dry-run", 3, 3, {}, {}, /*validate_only=*/true);
  EXPECT_EQ(a.code, 0) << a.message;
  EXPECT_FALSE(Exists(zk::TopicPath("dry-run")));

  // None of the refused topics reached ZooKeeper.
  for (const char* refused : {"too-many-replicas", "ghost-broker", "twice", "tak_en",
                              "bad-config", "unknown-config"}) {
    EXPECT_FALSE(Exists(zk::TopicPath(refused))) << refused;
  }

  // The internal topics' protections hold in a cluster too.
  ASSERT_EQ(CreateTopic(port, "__consumer_offsets", 3, 3).code, 0);
  a = DeleteTopic(port, "__consumer_offsets");
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) << a.message;
  a = CreatePartitions(port, "__consumer_offsets", 6);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) << a.message;
  EXPECT_FALSE(Exists(zk::DeleteTopicPath("__consumer_offsets")));

  // CreatePartitions and DeleteTopics refusals.
  a = CreatePartitions(port, "taken", 2);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_INVALID_PARTITIONS) << a.message;
  a = CreatePartitions(port, "nowhere", 4);
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) << a.message;
  a = DeleteTopic(port, "nowhere");
  EXPECT_EQ(a.code, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) << a.message;
}

TEST_F(ClusterAdminTest, AnExplicitAssignmentIsKeptAndItsPreferredReplicasLead) {
  const Assignment wanted = {{0, {3, 1}}, {1, {1, 2}}, {2, {2, 3}}};
  Answer a = CreateTopic(broker(NonController()).port(), "placed", 3, -1, {}, wanted);
  ASSERT_EQ(a.code, 0) << a.message;
  auto assignment = TopicAssignment("placed");
  ASSERT_TRUE(assignment.has_value());
  EXPECT_EQ(assignment->partitions, wanted);
  auto states = WaitForStates("placed", 3);
  for (const auto& [p, s] : states) {
    EXPECT_EQ(s.leader, wanted.at(p).front()) << "partition " << p;
    std::vector<int32_t> isr = s.isr, replicas = wanted.at(p);
    std::sort(isr.begin(), isr.end());
    std::sort(replicas.begin(), replicas.end());
    EXPECT_EQ(isr, replicas) << "partition " << p;
  }
}

TEST_F(ClusterAdminTest, AddedPartitionsGetStates) {
  CreateSixPartitions("growing");
  Answer a = CreatePartitions(broker(1).port(), "growing", 9);
  ASSERT_EQ(a.code, 0) << a.message;
  // librdkafka sends it to the controller, which answered once its own
  // metadata named leaders for the new partitions.
  auto leaders_at_answer = MetadataLeaders(broker(Controller()).port(), "growing");
  ASSERT_EQ(leaders_at_answer.size(), 9U);
  for (const auto& [p, leader] : leaders_at_answer) EXPECT_GE(leader, 1) << "partition " << p;
  auto assignment = TopicAssignment("growing");
  ASSERT_TRUE(assignment.has_value());
  EXPECT_EQ(assignment->partitions.size(), 9U);
  auto states = WaitForStates("growing", 9);
  std::map<int32_t, int> leaders;
  for (int32_t p = 6; p < 9; ++p) {
    EXPECT_EQ(states[p].leader, assignment->partitions[p].front()) << "partition " << p;
    EXPECT_EQ(states[p].isr.size(), 3U) << "partition " << p;
    ++leaders[states[p].leader];
  }
  // Kafka's walk goes on round-robin: the three new partitions have three leaders.
  EXPECT_EQ(leaders.size(), 3U);
}

TEST_F(ClusterAdminTest, ADeadLeadersPartitionsMoveToTheIsrWithANewEpoch) {
  auto before = CreateSixPartitions("failover");
  const int32_t dead = NonController();  // Leads two of the six.
  broker(dead).Kill();
  std::map<int32_t, zk::PartitionState> after;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& [p, s] : before) {
          auto now = State("failover", p);
          if (!now) return false;
          const bool out_of_isr =
              std::find(now->isr.begin(), now->isr.end(), dead) == now->isr.end();
          if (now->leader == dead || !out_of_isr) return false;
          after[p] = *now;
        }
        return true;
      },
      kFailoverTimeout))
      << "the controller did not act on broker " << dead << "'s death";
  for (const auto& [p, s] : before) {
    SCOPED_TRACE(fmt::format("partition {}", p));
    if (s.leader == dead) {
      EXPECT_NE(std::find(s.isr.begin(), s.isr.end(), after[p].leader), s.isr.end());
      EXPECT_EQ(after[p].leader_epoch, s.leader_epoch + 1);
    } else {
      EXPECT_EQ(after[p].leader, s.leader);  // A follower's death moves no leader.
    }
    EXPECT_EQ(after[p].isr.size(), 2U);
  }
}

TEST_F(ClusterAdminTest, ANewControllerTakesOverAndActs) {
  auto before = CreateSixPartitions("takeover");
  const int32_t first = Controller();
  broker(first).Kill();
  int32_t second = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        second = Controller();
        return second > 0 && second != first;
      },
      kFailoverTimeout));
  // The new controller moves the dead one's leaderships and drops it from
  // every ISR: it activated with the live brokers.
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& [p, s] : before) {
          auto now = State("takeover", p);
          if (!now || now->leader == first ||
              std::find(now->isr.begin(), now->isr.end(), first) != now->isr.end()) {
            return false;
          }
          if (s.leader == first && now->leader_epoch != s.leader_epoch + 1) return false;
        }
        return true;
      },
      kFailoverTimeout));
  // And it acts on what comes after: a new topic gets its states.
  const int32_t alive = first == 1 ? 2 : 1;
  Answer a = CreateTopic(broker(alive).port(), "after-takeover", 2, 2);
  ASSERT_EQ(a.code, 0) << a.message;
  WaitForStates("after-takeover", 2);
}

TEST_F(ClusterAdminTest, DeletedTopicsLeaveZooKeeper) {
  CreateSixPartitions("doomed");
  ASSERT_TRUE(Exists(zk::TopicConfigPath("doomed")));
  Answer a = DeleteTopic(broker(NonController()).port(), "doomed");
  ASSERT_EQ(a.code, 0) << a.message;
  ASSERT_TRUE(WaitUntil([&] {
    return !Exists(zk::TopicPath("doomed")) && !Exists(zk::TopicConfigPath("doomed")) &&
           !Exists(zk::DeleteTopicPath("doomed"));
  }));
  // The name is free again.
  a = CreateTopic(broker(1).port(), "doomed", 1, 1);
  EXPECT_EQ(a.code, 0) << a.message;
}

TEST_F(ClusterAdminTest, ADeleteIsAnsweredOnceTheBrokerNoLongerListsTheTopic) {
  CreateSixPartitions("gone");
  const uint16_t port = broker(NonController()).port();
  ASSERT_TRUE(WaitUntil([&] { return MetadataLeaders(port, "gone").size() == 6; }));
  protocol::DeleteTopicsRequest request;
  request.topic_names = {"gone"};
  request.timeout_ms = 30000;
  auto deleted =
      RawCall<protocol::DeleteTopicsRequest, protocol::DeleteTopicsResponse>(port, request, 4);
  ASSERT_TRUE(deleted.has_value());
  ASSERT_EQ(deleted->responses.at(0).error_code, 0);
  // At once, on the broker that answered: the topic is gone from its view.
  protocol::MetadataRequest ask;
  ask.topics.emplace().emplace_back().name = "gone";
  ask.allow_auto_topic_creation = false;
  auto seen = RawCall<protocol::MetadataRequest, protocol::MetadataResponse>(port, ask, 9);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->topics.at(0).error_code, ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  // And a second delete of it fails, as Kafka's (even while its znodes may
  // still be going).
  deleted = RawCall<protocol::DeleteTopicsRequest, protocol::DeleteTopicsResponse>(port, request, 4);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->responses.at(0).error_code, ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));

  // A controller that cannot act (stopped, for less than its session
  // timeout): REQUEST_TIMED_OUT at timeout_ms, and the deletion goes on
  // once it can.
  CreateSixPartitions("slow");
  // Known to the broker first (the wait is for it to forget the topic).
  ASSERT_TRUE(WaitUntil([&] { return MetadataLeaders(port, "slow").size() == 6; }));
  const pid_t controller = broker(Controller()).pid();
  ASSERT_EQ(0, ::kill(controller, SIGSTOP));
  request.topic_names = {"slow"};
  request.timeout_ms = 300;
  deleted = RawCall<protocol::DeleteTopicsRequest, protocol::DeleteTopicsResponse>(port, request, 4);
  ASSERT_EQ(0, ::kill(controller, SIGCONT));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->responses.at(0).error_code, ToWire(ErrorCode::REQUEST_TIMED_OUT));
  EXPECT_TRUE(WaitUntil([&] { return !Exists(zk::TopicPath("slow")); }));
}

// A restarted broker waits for its previous ZooKeeper session to expire
// before it registers, and hears from the controller only after that; it
// serves its port meanwhile. A Metadata asked of it then must not call a
// live topic unknown (librdkafka drops its partitions) nor fail to
// auto-create it (librdkafka fails the queued messages): it answers
// LEADER_NOT_AVAILABLE, which clients retry. Once registered, it answers
// in full (waiting for the controller's first word if it must).
TEST_F(ClusterAdminTest, ARestartedBrokerDoesNotCallALiveTopicUnknown) {
  CreateSixPartitions("kept");
  const int32_t victim = NonController();
  const uint16_t port = broker(victim).port();
  auto registration = zk_client_->Exists(zk::BrokerPath(victim));
  ASSERT_TRUE(registration.ok() && registration->has_value());
  const int64_t old_session = (*registration)->ephemeral_owner;
  broker(victim).Kill();  // kill -9: its registration stays until its session expires.

  // Asked from another thread while this one restarts the broker (the
  // broker dies with the thread that started it: PR_SET_PDEATHSIG).
  protocol::MetadataRequest ask;
  ask.topics.emplace().emplace_back().name = "kept";
  ask.allow_auto_topic_creation = true;  // as a producer asks
  std::optional<protocol::MetadataResponse> early;
  bool asked_before_registering = false;
  std::thread asker([&] {
    WaitUntil([&] {
      network::testing::TestClient probe(port);
      if (!probe.connected()) return false;
      auto owner = zk_client_->Exists(zk::BrokerPath(victim));
      asked_before_registering =
          owner.ok() && owner->has_value() && (*owner)->ephemeral_owner == old_session;
      early = RawCall<protocol::MetadataRequest, protocol::MetadataResponse>(port, ask, 9);
      return true;
    });
  });
  const Status restarted = StartBroker(victim, port);
  asker.join();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  // The case above, not a broker that had already heard from the controller.
  ASSERT_TRUE(asked_before_registering);
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(early->topics.at(0).error_code, ToWire(ErrorCode::LEADER_NOT_AVAILABLE));

  auto later = RawCall<protocol::MetadataRequest, protocol::MetadataResponse>(port, ask, 9);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->topics.at(0).error_code, 0);
  EXPECT_EQ(later->topics.at(0).partitions.size(), 6u);
  // Nothing was created or changed meanwhile.
  EXPECT_EQ(TopicAssignment("kept")->partitions.size(), 6u);
}

}  // namespace
}  // namespace sluice::testing
