// Partition reassignment (KIP-455) end to end: real ZooKeeper, four real
// sluice-broker processes (tests/support/cluster_fixture.h), librdkafka
// producing with acks=all (idempotent) while a partition moves from
// brokers {1,2,3} to {2,3,4}, AlterPartitionReassignments and
// ListPartitionReassignments sent to the controller with rpc::Connection,
// and the `sluice partition` commands. Every wait is on an observable
// state, not a sleep.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "protocol/error_code.h"
#include "protocol/generated/alter_partition_reassignments.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/incremental_alter_configs.h"
#include "protocol/generated/list_partition_reassignments.h"
#include "protocol/generated/metadata.h"
#include "rpc/connection.h"
#include "support/cluster_fixture.h"
#include "support/kafka_client.h"
#include "support/metrics_scrape.h"
#include "support/wait_until.h"
#include "zk/znodes.h"

#ifndef SLUICE_CLI_PATH
#error "SLUICE_CLI_PATH (the sluice binary) must be defined by the build"
#endif

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using protocol::AlterPartitionReassignmentsRequest;
using protocol::AlterPartitionReassignmentsResponse;
using protocol::ErrorCode;
using protocol::ListPartitionReassignmentsRequest;
using protocol::ListPartitionReassignmentsResponse;
using protocol::ToWire;
using V = std::vector<int32_t>;

// Produces "m<i>" to one partition with an idempotent acks=all producer on
// a thread of its own until Stop, keeping every delivery report.
class SteadyProducer {
 public:
  struct Sent {
    std::string value;
    DeliveryResult result;
  };

  SteadyProducer(const std::string& bootstrap, std::string topic, int32_t partition)
      : client_(bootstrap), topic_(std::move(topic)), partition_(partition) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SteadyProducer() { Stop(); }

  size_t acked() const { return acked_.load(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // After Stop: the values acknowledged, in order, and how many failed.
  std::vector<std::string> Acked(size_t* failed) const {
    std::vector<std::string> out;
    *failed = 0;
    for (const Sent& s : sent_) {
      if (s.result.done && s.result.err == RdKafka::ERR_NO_ERROR) {
        out.push_back(s.value);
      } else {
        ++*failed;
      }
    }
    return out;
  }

 private:
  void Run() {
    auto producer = client_.MakeProducer({{"acks", "all"},
                                          {"enable.idempotence", "true"},
                                          {"linger.ms", "1"},
                                          {"message.timeout.ms", "60000"}});
    size_t counted = 0;
    auto count = [&] {
      while (counted < sent_.size() && sent_[counted].result.done) {
        if (sent_[counted].result.err == RdKafka::ERR_NO_ERROR) ++acked_;
        ++counted;
      }
    };
    while (!stop_) {
      Sent& s = sent_.emplace_back();
      s.value = fmt::format("m{}", sent_.size() - 1);
      if (producer->produce(topic_, partition_, RdKafka::Producer::RK_MSG_COPY, s.value.data(),
                            s.value.size(), nullptr, 0, 0, &s.result) != RdKafka::ERR_NO_ERROR) {
        sent_.pop_back();  // A full queue: try again after a poll.
      }
      producer->poll(1);
      count();
    }
    producer->flush(60000);
    producer->poll(0);
    count();
  }

  KafkaClient client_;
  const std::string topic_;
  const int32_t partition_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0};
  std::deque<Sent> sent_;  // The producer thread's until Stop.
  std::thread thread_;
};

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class ReassignmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A long session: the cancel test freezes a broker for a moment and it
    // must stay registered meanwhile.
    ASSERT_TRUE(cluster_.Start().ok()) << cluster_.Outputs();
  }
  // Clean stops: a broker that crashed or reported a sanitizer error (a
  // non-zero exit) fails the test.
  void TearDown() override {
    Status s = cluster_.StopBrokers();
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << cluster_.Outputs();
  }

  // CreateTopics with an explicit assignment, asked again while the broker
  // answering does not see every broker live yet.
  int CreateTopic(const std::string& topic, const std::vector<V>& assignment) {
    KafkaClient admin(cluster_.Bootstrap());
    int error = -1;
    WaitUntil([&] {
      error = admin.CreateTopic(topic, assignment);
      return error != 38 && error != 39;
    });
    return error;
  }

  // `request` to the controller, asked again if the controller moved.
  template <typename Req, typename Resp>
  std::optional<Resp> ToController(const Req& request) {
    std::optional<Resp> out;
    WaitUntil([&] {
      const int32_t controller = cluster_.Controller();
      if (controller < 1) return false;
      auto conn = rpc::Connection::Connect("127.0.0.1", cluster_.broker(controller).port(), {});
      if (!conn.ok()) return false;
      auto reply = (*conn)->template Call<Req, Resp>(request, 0);
      if (!reply.ok()) return false;
      out = reply->body();
      return out->error_code != ToWire(ErrorCode::NOT_CONTROLLER);
    });
    return out;
  }

  // One partition's reassignment; its partition-level error code.
  int16_t Reassign(const std::string& topic, int32_t partition, std::optional<V> replicas) {
    AlterPartitionReassignmentsRequest request;
    auto& t = request.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.replicas = std::move(replicas);
    auto r = ToController<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>(
        request);
    if (!r || r->error_code != 0 || r->responses.size() != 1 ||
        r->responses[0].partitions.size() != 1) {
      ADD_FAILURE() << "no answer from the controller";
      return -1;
    }
    return r->responses[0].partitions[0].error_code;
  }

  // The reassignments in progress: (topic, partition) -> the entry.
  std::map<std::pair<std::string, int32_t>,
           ListPartitionReassignmentsResponse::OngoingPartitionReassignment>
  Ongoing() {
    std::map<std::pair<std::string, int32_t>,
             ListPartitionReassignmentsResponse::OngoingPartitionReassignment>
        out;
    auto r = ToController<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>(
        ListPartitionReassignmentsRequest{});
    EXPECT_TRUE(r);
    if (!r) return out;
    for (const auto& t : r->topics) {
      for (const auto& p : t.partitions) out[{t.name, p.partition_index}] = p;
    }
    return out;
  }

  // The replicas of `topic`-`partition` in broker `id`'s metadata.
  std::optional<V> MetadataReplicas(int32_t id, const std::string& topic, int32_t partition) {
    auto conn = rpc::Connection::Connect("127.0.0.1", cluster_.broker(id).port(), {});
    if (!conn.ok()) return std::nullopt;
    protocol::MetadataRequest request;
    request.topics.emplace().emplace_back().name = topic;
    auto reply = (*conn)->Call<protocol::MetadataRequest, protocol::MetadataResponse>(request, 9);
    if (!reply.ok()) return std::nullopt;
    for (const auto& t : reply->body().topics) {
      for (const auto& p : t.partitions) {
        if (p.partition_index == partition) return p.replica_nodes;
      }
    }
    return std::nullopt;
  }

  std::optional<V> AssignedReplicas(const std::string& topic, int32_t partition) {
    zk::ZkOptions o;
    o.connect = cluster_.zk_connect();
    auto zk = zk::ZkClient::Connect(o);
    if (!zk.ok()) return std::nullopt;
    auto node = (*zk)->Get(zk::TopicPath(topic));
    if (!node.ok()) return std::nullopt;
    auto a = zk::DecodeTopicAssignment(node->data);
    if (!a.ok() || !a->partitions.contains(partition)) return std::nullopt;
    return a->partitions.at(partition);
  }

  bool HasPartitionDir(int32_t broker, const std::string& topic, int32_t partition) {
    return std::filesystem::exists(cluster_.LogDir(broker) / fmt::format("{}-{}", topic, partition));
  }

  CliResult RunCli(const std::string& args) {
    const std::string command = fmt::format("{} -b {} --timeout-ms 10000 {} 2>&1", SLUICE_CLI_PATH,
                                            cluster_.Bootstrap(), args);
    CliResult r;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
  }

  // One series of broker `id`'s /metrics (0 if missing or unreachable).
  double Metric(int32_t id, const std::string& series) {
    auto endpoint = FindMetricsEndpoint(cluster_.broker(id).output());
    if (!endpoint) return 0;
    auto body = FetchMetrics(*endpoint);
    if (!body) return 0;
    auto all = ParseExposition(*body);
    auto it = all.find(series);
    return it == all.end() ? 0 : it->second;
  }

  // IncrementalAlterConfigs SET of `configs` on broker resource `name`
  // ("" for every broker's defaults), sent to broker `via`: the resource's
  // error code and message.
  std::pair<int16_t, std::string> AlterBrokerConfigs(int32_t via, const std::string& name,
                                                     const std::map<std::string, std::string>& configs) {
    auto conn = rpc::Connection::Connect("127.0.0.1", cluster_.broker(via).port(), {});
    if (!conn.ok()) return {-1, conn.status().ToString()};
    protocol::IncrementalAlterConfigsRequest request;
    auto& res = request.resources.emplace_back();
    res.resource_type = 4;  // BROKER
    res.resource_name = name;
    for (const auto& [key, value] : configs) {
      auto& c = res.configs.emplace_back();
      c.name = key;
      c.config_operation = 0;  // SET
      c.value = value;
    }
    auto reply = (*conn)->Call<protocol::IncrementalAlterConfigsRequest,
                               protocol::IncrementalAlterConfigsResponse>(request, 1);
    if (!reply.ok() || reply->body().responses.size() != 1) return {-1, "no answer"};
    const auto& r = reply->body().responses[0];
    return {r.error_code, r.error_message.value_or("")};
  }

  // `key`'s value and source (Kafka's numbers) in broker `id`'s DescribeConfigs.
  std::pair<std::string, int> DescribeBrokerConfig(int32_t id, const std::string& key) {
    auto conn = rpc::Connection::Connect("127.0.0.1", cluster_.broker(id).port(), {});
    if (!conn.ok()) return {"", -1};
    protocol::DescribeConfigsRequest request;
    auto& res = request.resources.emplace_back();
    res.resource_type = 4;
    res.resource_name = std::to_string(id);
    res.configuration_keys = std::vector<std::string>{key};
    auto reply = (*conn)->Call<protocol::DescribeConfigsRequest, protocol::DescribeConfigsResponse>(
        request, 1);
    if (!reply.ok() || reply->body().results.size() != 1) return {"", -1};
    for (const auto& c : reply->body().results[0].configs) {
      if (c.name == key) return {c.value.value_or(""), c.config_source};
    }
    return {"", -1};
  }

  BrokerCluster cluster_{{.brokers = 4,
                          .session_timeout_ms = 20000,
                          .overrides = {"sluice.metrics.listener=127.0.0.1:0"}}};
};

TEST_F(ReassignmentTest, MovesAPartitionUnderLoadWithoutLosingAcknowledgedWrites) {
  const std::string topic = "moving";
  ASSERT_EQ(0, CreateTopic(topic, {{1, 2, 3}}));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster_.State(topic, 0);
    return s && s->leader == 1 && s->isr.size() == 3;
  })) << cluster_.Outputs();

  SteadyProducer producer(cluster_.Bootstrap(), topic, 0);
  ASSERT_TRUE(WaitUntil([&] { return producer.acked() >= 300; })) << cluster_.Outputs();
  EXPECT_FALSE(HasPartitionDir(4, topic, 0));

  ASSERT_EQ(Reassign(topic, 0, V{2, 3, 4}), 0);
  // Done once no reassignment is listed and the replicas are the target,
  // in ZooKeeper and in every broker's metadata.
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (!Ongoing().empty() || AssignedReplicas(topic, 0) != V{2, 3, 4}) return false;
        for (int32_t b = 1; b <= 4; ++b) {
          if (MetadataReplicas(b, topic, 0) != V{2, 3, 4}) return false;
        }
        return true;
      },
      60s))
      << cluster_.Outputs();
  const zk::PartitionState state = *cluster_.State(topic, 0);
  EXPECT_EQ(state.leader, 2) << "1 is not a target replica: the first target replica leads";
  EXPECT_EQ(std::set<int32_t>(state.isr.begin(), state.isr.end()), (std::set<int32_t>{2, 3, 4}));

  // Writes go on with the new replicas.
  const size_t acked_at_move = producer.acked();
  ASSERT_TRUE(WaitUntil([&] { return producer.acked() >= acked_at_move + 300; }))
      << cluster_.Outputs();
  producer.Stop();
  size_t failed = 0;
  const std::vector<std::string> acked = producer.Acked(&failed);
  EXPECT_EQ(failed, 0u);

  // Every acknowledged message, exactly once, in order, from the new leader.
  KafkaClient reader(cluster_.Bootstrap());
  std::vector<std::string> got;
  for (const auto& m : reader.ConsumePartition(topic, 0, acked.size(), 60s)) {
    got.push_back(m.value.value_or(""));
  }
  EXPECT_EQ(acked, got);

  // The removed replica's log is deleted, the added one's is there.
  EXPECT_TRUE(WaitUntil([&] { return !HasPartitionDir(1, topic, 0); })) << cluster_.Outputs();
  EXPECT_TRUE(HasPartitionDir(4, topic, 0));

  // The CLI sees nothing in progress.
  CliResult list = RunCli("partition reassignments");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("0 reassignment(s) in progress"), std::string::npos) << list.output;
}

// A broker that is not the controller, to freeze (SIGSTOP: still
// registered, the session is long, but it cannot fetch), and the other
// three brokers, in id order.
struct Spare {
  int32_t frozen = -1;
  V others;
};
Spare PickSpare(int32_t controller) {
  Spare out;
  out.frozen = controller == 4 ? 1 : 4;
  for (int32_t b = 1; b <= 4; ++b) {
    if (b != out.frozen) out.others.push_back(b);
  }
  return out;
}

TEST_F(ReassignmentTest, CancelRevertsAndTheCliShowsProgress) {
  const std::string topic = "cancelled";
  const Spare spare = PickSpare(cluster_.Controller());
  const int32_t x = spare.frozen;
  const V ors = spare.others;
  ASSERT_EQ(0, CreateTopic(topic, {ors}));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster_.State(topic, 0);
    return s && s->leader == ors[0] && s->isr.size() == 3;
  })) << cluster_.Outputs();

  // Errors the controller answers, through the CLI.
  CliResult nothing = RunCli(fmt::format("partition reassign --topic {} --partition 0 --cancel", topic));
  EXPECT_EQ(nothing.exit_code, 1) << nothing.output;
  EXPECT_NE(nothing.output.find("NO_REASSIGNMENT_IN_PROGRESS"), std::string::npos) << nothing.output;
  CliResult unknown_broker =
      RunCli(fmt::format("partition reassign --topic {} --partition 0 --replicas 2,9", topic));
  EXPECT_EQ(unknown_broker.exit_code, 1) << unknown_broker.output;
  EXPECT_NE(unknown_broker.output.find("INVALID_REPLICA_ASSIGNMENT"), std::string::npos)
      << unknown_broker.output;
  EXPECT_EQ(Reassign(topic, 7, V{1, 2}), ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  EXPECT_EQ(Reassign(topic, 0, V{1, 1}), ToWire(ErrorCode::INVALID_REPLICA_ASSIGNMENT));

  // The frozen broker cannot fetch, so the reassignment to it stays in
  // progress until cancelled.
  ASSERT_EQ(kill(cluster_.broker(x).pid(), SIGSTOP), 0);
  CliResult start = RunCli(fmt::format("partition reassign --topic {} --partition 0 --replicas {},{},{}",
                                       topic, ors[1], ors[2], x));
  EXPECT_EQ(start.exit_code, 0) << start.output;
  auto ongoing = Ongoing();
  ASSERT_EQ(ongoing.size(), 1u);
  const auto& entry = ongoing.begin()->second;
  EXPECT_EQ(entry.replicas, (V{ors[1], ors[2], x, ors[0]}));
  EXPECT_EQ(entry.adding_replicas, (V{x}));
  EXPECT_EQ(entry.removing_replicas, (V{ors[0]}));
  CliResult list = RunCli("partition reassignments");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find(fmt::format("{}: catching up", x)), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("1 reassignment(s) in progress"), std::string::npos) << list.output;

  CliResult cancel = RunCli(fmt::format("partition reassign --topic {} --partition 0 --cancel", topic));
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
  ASSERT_EQ(kill(cluster_.broker(x).pid(), SIGCONT), 0);
  EXPECT_TRUE(Ongoing().empty());
  // Kafka's order: RS without the replica that was being added.
  EXPECT_EQ(AssignedReplicas(topic, 0), (V{ors[1], ors[2], ors[0]}));
  // Led by an original replica (the automatic rebalance may have moved it
  // to RS's first meanwhile).
  const zk::PartitionState after = *cluster_.State(topic, 0);
  EXPECT_NE(after.leader, x);
  EXPECT_EQ(std::set<int32_t>(after.isr.begin(), after.isr.end()), std::set<int32_t>(ors.begin(), ors.end()));
  // The thawed broker deletes what it had started to copy.
  EXPECT_TRUE(WaitUntil([&] { return !HasPartitionDir(x, topic, 0); })) << cluster_.Outputs();
  EXPECT_TRUE(WaitUntil([&] { return MetadataReplicas(x, topic, 0) == V{ors[1], ors[2], ors[0]}; }))
      << cluster_.Outputs();
}

TEST_F(ReassignmentTest, ANewControllerCompletesAReassignmentTheOldOneStarted) {
  const std::string topic = "failover";
  const int32_t old_controller = cluster_.Controller();
  const Spare spare = PickSpare(old_controller);
  const int32_t x = spare.frozen;
  // The controller first: it leads, and is the replica the move removes.
  V ors = {old_controller};
  for (int32_t b : spare.others) {
    if (b != old_controller) ors.push_back(b);
  }
  const V target = {ors[1], ors[2], x};
  ASSERT_EQ(0, CreateTopic(topic, {ors}));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster_.State(topic, 0);
    return s && s->leader == ors[0] && s->isr.size() == 3;
  })) << cluster_.Outputs();

  ASSERT_EQ(kill(cluster_.broker(x).pid(), SIGSTOP), 0);
  ASSERT_EQ(Reassign(topic, 0, target), 0);
  ASSERT_EQ(Ongoing().size(), 1u);
  // The controller that started it stops (resigning at once); another takes over.
  auto stopped = cluster_.broker(old_controller).Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0);
  ASSERT_TRUE(WaitUntil([&] {
    const int32_t c = cluster_.Controller();
    return c > 0 && c != old_controller;
  })) << cluster_.Outputs();
  EXPECT_NE(cluster_.Controller(), x);
  ASSERT_EQ(kill(cluster_.broker(x).pid(), SIGCONT), 0);

  // The new controller resumes from the topic znode: x fetches, joins the
  // ISR, and the move completes without the old controller.
  ASSERT_TRUE(WaitUntil([&] { return Ongoing().empty() && AssignedReplicas(topic, 0) == target; },
                        60s))
      << cluster_.Outputs();
  const zk::PartitionState state = *cluster_.State(topic, 0);
  EXPECT_EQ(std::set<int32_t>(state.isr.begin(), state.isr.end()),
            std::set<int32_t>(target.begin(), target.end()));
  EXPECT_NE(std::find(target.begin(), target.end(), state.leader), target.end());
  EXPECT_TRUE(HasPartitionDir(x, topic, 0));
}

// A throttled reassignment (KIP-73): the new replica's catch-up is held to
// the replication quota, first by the leaders (their topic names them in
// leader.replication.throttled.replicas), then by the new replica itself
// (follower.replication.throttled.replicas), and completes once the
// throttle is lifted. The rates are dynamic broker configs, set through
// IncrementalAlterConfigs as every broker's default, then lifted for the
// new replica alone. The data (10 MB) is far more than the quotas let
// through while the test holds them (one fetch of replica.fetch.max.bytes,
// 1 MiB, per side, then nothing for about 10 s at 100 kB/s), so the move
// cannot complete while throttled.
TEST_F(ReassignmentTest, AThrottledCatchUpWaitsForTheQuotaAndCompletesOnceLifted) {
  const std::string topic = "throttled";
  const Spare spare = PickSpare(cluster_.Controller());
  const int32_t x = spare.frozen;  // the new replica (not frozen here)
  const V ors = spare.others;
  ASSERT_EQ(0, CreateTopic(topic, {ors}));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster_.State(topic, 0);
    return s && s->isr.size() == 3;
  })) << cluster_.Outputs();

  constexpr int kMessages = 10000;
  const std::string value(1000, 'v');
  {
    KafkaClient client(cluster_.Bootstrap());
    auto producer = client.MakeProducer({{"acks", "all"}, {"linger.ms", "5"}});
    std::vector<DeliveryResult> results(kMessages);
    for (int i = 0; i < kMessages; ++i) {
      std::string v = fmt::format("{:05d}", i) + value;
      while (producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, v.data(), v.size(),
                               nullptr, 0, 0, &results[static_cast<size_t>(i)]) ==
             RdKafka::ERR__QUEUE_FULL) {
        producer->poll(10);
      }
      producer->poll(0);
    }
    ASSERT_EQ(producer->flush(60000), RdKafka::ERR_NO_ERROR);
    producer->poll(0);
    for (const DeliveryResult& r : results) ASSERT_EQ(r.err, RdKafka::ERR_NO_ERROR);
  }

  // Each broker applies a topic's config change on its own, from
  // ZooKeeper, and logs it: `AlterConfig` returns once `brokers` have.
  auto applied = [&](int32_t b) {
    const std::string out = cluster_.broker(b).output();
    const std::string needle = fmt::format("topic {}: applied its config from ZooKeeper", topic);
    size_t n = 0;
    for (size_t at = out.find(needle); at != std::string::npos; at = out.find(needle, at + 1)) ++n;
    return n;
  };
  auto alter_config = [&](const std::string& args, const V& brokers) {
    std::map<int32_t, size_t> before;
    for (int32_t b : brokers) before[b] = applied(b);
    CliResult r = RunCli(fmt::format("topic alter-config {} {}", topic, args));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return WaitUntil([&] {
      for (int32_t b : brokers) {
        if (applied(b) <= before[b]) return false;
      }
      return true;
    });
  };
  auto holds = [&](int32_t b, const char* side) {
    return Metric(b, fmt::format("sluice_replication_throttled_holds_total{{side=\"{}\"}}", side));
  };

  // The rates, 100 kB/s on every broker, as dynamic defaults (through any
  // broker); each broker logs when it applies them.
  auto rates_applied = [&](int32_t b, const std::string& side, const std::string& rate) {
    return cluster_.broker(b).output().find(fmt::format("{}.replication.throttled.rate is now {}",
                                                        side, rate)) != std::string::npos;
  };
  auto [set_error, set_message] = AlterBrokerConfigs(
      ors[0], "",
      {{"leader.replication.throttled.rate", "100000"},
       {"follower.replication.throttled.rate", "100000"}});
  ASSERT_EQ(set_error, 0) << set_message;
  ASSERT_TRUE(WaitUntil([&] {
    for (int32_t b = 1; b <= 4; ++b) {
      if (!rates_applied(b, "leader", "100000") || !rates_applied(b, "follower", "100000")) {
        return false;
      }
    }
    return true;
  })) << cluster_.Outputs();
  EXPECT_EQ(DescribeBrokerConfig(x, "follower.replication.throttled.rate"),
            (std::pair<std::string, int>{"100000", 3}))  // DYNAMIC_DEFAULT_BROKER_CONFIG
      << "described as every broker's dynamic default";
  // A config that cannot change at run time is refused, and so is a bad value.
  EXPECT_EQ(AlterBrokerConfigs(x, std::to_string(x), {{"log.dirs", "/elsewhere"}}).first,
            ToWire(ErrorCode::INVALID_REQUEST));
  EXPECT_EQ(AlterBrokerConfigs(x, std::to_string(x), {{"leader.replication.throttled.rate", "-5"}}).first,
            ToWire(ErrorCode::INVALID_CONFIG));

  // Leader side: the original replicas throttle what they send to x.
  ASSERT_TRUE(alter_config(fmt::format("--set leader.replication.throttled.replicas=0:{},0:{},0:{}",
                                       ors[0], ors[1], ors[2]),
                           ors))
      << cluster_.Outputs();
  const V target = {ors[1], ors[2], x};
  ASSERT_EQ(Reassign(topic, 0, target), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return holds(ors[0], "leader") + holds(ors[1], "leader") + holds(ors[2], "leader") >= 2; },
      60s))
      << cluster_.Outputs();
  EXPECT_EQ(Ongoing().size(), 1u) << "completed although its leader held the new replica back";
  double leader_bytes = 0;
  for (int32_t b : ors) {
    leader_bytes += Metric(b, "sluice_replication_throttled_bytes_total{side=\"leader\"}");
  }
  EXPECT_GT(leader_bytes, 0);
  EXPECT_EQ(holds(x, "follower"), 0) << "no follower throttle is set yet";

  // Follower side: x throttles its own fetches too, then alone.
  ASSERT_TRUE(alter_config(fmt::format("--set follower.replication.throttled.replicas=0:{}", x), {x}))
      << cluster_.Outputs();
  ASSERT_TRUE(alter_config("--delete leader.replication.throttled.replicas", ors))
      << cluster_.Outputs();
  const double follower_holds = holds(x, "follower");
  ASSERT_TRUE(WaitUntil([&] { return holds(x, "follower") >= follower_holds + 2; }, 60s))
      << cluster_.Outputs();
  EXPECT_EQ(Ongoing().size(), 1u) << "completed although the new replica held itself back";
  const zk::PartitionState held = *cluster_.State(topic, 0);
  EXPECT_EQ(std::find(held.isr.begin(), held.isr.end(), x), held.isr.end());
  EXPECT_GT(Metric(x, "sluice_replication_throttled_bytes_total{side=\"follower\"}"), 0);

  // Lifted by x's own rate, which overrides the default: x catches up and
  // the move completes with every message.
  auto [lift_error, lift_message] =
      AlterBrokerConfigs(x, std::to_string(x), {{"follower.replication.throttled.rate", "1000000000"}});
  ASSERT_EQ(lift_error, 0) << lift_message;
  EXPECT_EQ(DescribeBrokerConfig(x, "follower.replication.throttled.rate"),
            (std::pair<std::string, int>{"1000000000", 2}))  // DYNAMIC_BROKER_CONFIG
      << "described as this broker's own dynamic value";
  ASSERT_TRUE(WaitUntil([&] { return Ongoing().empty() && AssignedReplicas(topic, 0) == target; },
                        60s))
      << cluster_.Outputs();
  KafkaClient reader(cluster_.Bootstrap());
  const auto got = reader.ConsumePartition(topic, 0, kMessages, 60s);
  ASSERT_EQ(got.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(got[static_cast<size_t>(i)].value.value_or("").substr(0, 5), fmt::format("{:05d}", i));
  }
}

// `sluice partition reassign --throttle` sets what Kafka's tool sets before
// the move starts, and `sluice partition clear-throttle` removes it. (What
// the throttle does is the test above's.)
TEST_F(ReassignmentTest, TheCliThrottlesAMoveAndClearsTheThrottle) {
  const std::string topic = "cli-throttled";
  const Spare spare = PickSpare(cluster_.Controller());
  const int32_t x = spare.frozen;
  const V ors = spare.others;
  ASSERT_EQ(0, CreateTopic(topic, {ors}));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster_.State(topic, 0);
    return s && s->isr.size() == 3;
  })) << cluster_.Outputs();

  CliResult start = RunCli(fmt::format(
      "partition reassign --topic {} --partition 0 --replicas {},{},{} --throttle 50000000", topic,
      ors[1], ors[2], x));
  ASSERT_EQ(start.exit_code, 0) << start.output;
  CliResult described = RunCli(fmt::format("topic describe {}", topic));
  EXPECT_NE(described.output.find(fmt::format("leader.replication.throttled.replicas=0:{},0:{},0:{}",
                                              ors[0], ors[1], ors[2])),
            std::string::npos)
      << described.output;
  EXPECT_NE(described.output.find(fmt::format("follower.replication.throttled.replicas=0:{}", x)),
            std::string::npos)
      << described.output;
  for (int32_t b = 1; b <= 4; ++b) {
    for (const char* side : {"leader", "follower"}) {
      EXPECT_EQ(DescribeBrokerConfig(b, fmt::format("{}.replication.throttled.rate", side)),
                (std::pair<std::string, int>{"50000000", 2}))  // DYNAMIC_BROKER_CONFIG
          << "broker " << b << " " << side;
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return Ongoing().empty(); }, 60s)) << cluster_.Outputs();

  CliResult clear = RunCli(fmt::format("partition clear-throttle --topic {}", topic));
  ASSERT_EQ(clear.exit_code, 0) << clear.output;
  described = RunCli(fmt::format("topic describe {}", topic));
  EXPECT_EQ(described.output.find("throttled.replicas="), std::string::npos) << described.output;
  for (int32_t b = 1; b <= 4; ++b) {
    EXPECT_EQ(DescribeBrokerConfig(b, "follower.replication.throttled.rate").second, 5)
        << "broker " << b << ": back to the default (DEFAULT_CONFIG)";
  }
}

TEST_F(ReassignmentTest, ABrokerThatIsNotTheControllerAnswersNotController) {
  const int32_t controller = cluster_.Controller();
  const int32_t other = controller % 4 + 1;
  auto conn = rpc::Connection::Connect("127.0.0.1", cluster_.broker(other).port(), {});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto alter = (*conn)->Call<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>(
      AlterPartitionReassignmentsRequest{}, 0);
  ASSERT_TRUE(alter.ok()) << alter.status().ToString();
  EXPECT_EQ(alter->body().error_code, ToWire(ErrorCode::NOT_CONTROLLER));
  auto list = (*conn)->Call<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>(
      ListPartitionReassignmentsRequest{}, 0);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->body().error_code, ToWire(ErrorCode::NOT_CONTROLLER));
}

}  // namespace
}  // namespace sluice::testing
