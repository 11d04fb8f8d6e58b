// Leader elections on demand (ElectLeaders) and the automatic
// preferred-leader rebalance, end to end: real ZooKeeper, three real
// sluice-broker processes, ElectLeaders and Metadata sent with the broker's
// own client (rpc::Connection; librdkafka 2.0 has no ElectLeaders), and the
// `sluice` CLI's partition views and elect-leaders command run as a user
// would. A broker that goes away loses its leaderships to other replicas;
// after it is back in the ISR a preferred election (asked for, or the
// controller's own check) gives them back. Every wait is on an observable
// state, not a sleep.
#include <gtest/gtest.h>

#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "protocol/generated/api_versions.h"
#include "protocol/generated/elect_leaders.h"
#include "protocol/generated/metadata.h"
#include "rpc/connection.h"
#include "support/broker_process.h"
#include "support/cluster_znodes.h"
#include "support/kafka_client.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

#ifndef SLUICE_CLI_PATH
#error "SLUICE_CLI_PATH (the sluice binary) must be defined by the build"
#endif

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using protocol::ElectLeadersRequest;
using protocol::ElectLeadersResponse;

constexpr char kChroot[] = "/sluice";
constexpr int kSessionTimeoutMs = 3000;
constexpr int16_t kNone = 0;
constexpr int16_t kNotController = 41;
constexpr int16_t kElectionNotNeeded = 84;

// partition -> replicas, the preferred first.
using Assignment = std::map<int32_t, std::vector<int32_t>>;

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class LeaderBalanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string() + kChroot;
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    zk_client_ = std::move(*c);
  }

  // Starts brokers 1-3 with `overrides` on top of the test's settings and
  // waits until all are live and one is the controller.
  void StartCluster(std::vector<std::string> overrides) {
    overrides_ = std::move(overrides);
    for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id).ok()) << broker(id).output();
    ASSERT_TRUE(WaitUntil([&] { return LiveIds().size() == 3 && Controller() > 0; }));
  }

  Status StartBroker(int32_t id) {
    BrokerProcessOptions options;
    options.default_listener = false;
    options.log_dir = dirs_[static_cast<size_t>(id - 1)].path() / "data";
    options.overrides = {"listeners=PLAINTEXT://127.0.0.1:0",
                         "log.dirs=" + options.log_dir.string(),
                         fmt::format("broker.id={}", id),
                         "zookeeper.connect=" + zk_.connect_string() + kChroot,
                         fmt::format("zookeeper.session.timeout.ms={}", kSessionTimeoutMs),
                         "replica.lag.time.max.ms=4000",
                         "replica.fetch.backoff.ms=200",
                         "sluice.metrics.listener="};
    options.overrides.insert(options.overrides.end(), overrides_.begin(), overrides_.end());
    return brokers_[static_cast<size_t>(id - 1)].Start(options);
  }
  BrokerProcess& broker(int32_t id) { return brokers_[static_cast<size_t>(id - 1)]; }
  std::string Bootstrap() {
    std::vector<std::string> out;
    for (auto& b : brokers_) {
      if (b.running()) out.push_back(fmt::format("127.0.0.1:{}", b.port()));
    }
    return fmt::format("{}", fmt::join(out, ","));
  }
  std::string Outputs() { return broker(1).output() + broker(2).output() + broker(3).output(); }

  std::set<int32_t> LiveIds() { return LiveBrokerIds(*zk_client_); }
  int32_t Controller() { return ControllerId(*zk_client_); }
  std::optional<zk::PartitionState> State(const std::string& topic, int32_t p) {
    return ReadPartitionState(*zk_client_, topic, p);
  }
  // A live broker other than the controller and `besides`.
  int32_t NotController(int32_t besides = -1) {
    const int32_t controller = Controller();
    for (int32_t id = 1; id <= 3; ++id) {
      if (id != controller && id != besides && broker(id).running()) return id;
    }
    return -1;
  }

  Assignment AssignmentOf(const std::string& topic) {
    auto node = zk_client_->Get(zk::TopicPath(topic));
    if (!node.ok()) return {};
    auto a = zk::DecodeTopicAssignment(node->data);
    return a.ok() ? a->partitions : Assignment{};
  }
  // Every partition has a state whose ISR holds all its replicas.
  bool AllInSync(const std::string& topic) {
    const Assignment a = AssignmentOf(topic);
    if (a.empty()) return false;
    for (const auto& [p, replicas] : a) {
      auto s = State(topic, p);
      if (!s || s->leader < 0 || s->isr.size() != replicas.size()) return false;
    }
    return true;
  }
  // Every partition is led by its preferred replica (per its state znode).
  bool PreferredLead(const std::string& topic) {
    const Assignment a = AssignmentOf(topic);
    if (a.empty()) return false;
    for (const auto& [p, replicas] : a) {
      auto s = State(topic, p);
      if (!s || s->leader != replicas.front()) return false;
    }
    return true;
  }
  // The partitions of `topic` whose preferred replica is `id`.
  std::vector<int32_t> PreferredBy(const std::string& topic, int32_t id) {
    std::vector<int32_t> out;
    for (const auto& [p, replicas] : AssignmentOf(topic)) {
      if (replicas.front() == id) out.push_back(p);
    }
    return out;
  }
  bool NoneLedBy(const std::string& topic, int32_t id) {
    for (const auto& [p, replicas] : AssignmentOf(topic)) {
      auto s = State(topic, p);
      if (!s || s->leader < 0 || s->leader == id) return false;
    }
    return true;
  }

  std::unique_ptr<rpc::Connection> Connect(int32_t id) {
    auto c = rpc::Connection::Connect("127.0.0.1", broker(id).port(),
                                      {.client_id = "leader-balance-test"});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::optional<ElectLeadersResponse> Elect(int32_t id, int16_t version,
                                            const ElectLeadersRequest& request) {
    std::unique_ptr<rpc::Connection> c = Connect(id);
    if (!c) return std::nullopt;
    auto reply = c->Call<ElectLeadersRequest, ElectLeadersResponse>(request, version);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return std::nullopt;
    return std::move(reply->body());
  }
  // partition -> leader, as broker `id` answers Metadata.
  std::map<int32_t, int32_t> MetadataLeaders(int32_t id, const std::string& topic) {
    std::map<int32_t, int32_t> out;
    std::unique_ptr<rpc::Connection> c = Connect(id);
    if (!c) return out;
    protocol::MetadataRequest request;
    request.topics = std::nullopt;  // All topics.
    auto reply = c->Call<protocol::MetadataRequest, protocol::MetadataResponse>(request, 7);
    if (!reply.ok()) return out;
    for (const auto& t : reply->body().topics) {
      if (t.name != topic) continue;
      for (const auto& p : t.partitions) out[p.partition_index] = p.leader_id;
    }
    return out;
  }
  // The line `sluice topic describe --under-replicated/--unavailable` prints
  // for the partition, from its znodes.
  std::string DescribeLine(const std::string& topic, int32_t p) {
    auto s = State(topic, p);
    if (!s) return "(no state)";
    return fmt::format("Topic: {}  Partition: {}  Leader: {}  Replicas: {}  Isr: {}\n", topic, p,
                       s->leader < 0 ? "none" : std::to_string(s->leader),
                       fmt::join(AssignmentOf(topic).at(p), ","), fmt::join(s->isr, ","));
  }
  std::map<int32_t, int32_t> PreferredLeaders(const std::string& topic) {
    std::map<int32_t, int32_t> out;
    for (const auto& [p, replicas] : AssignmentOf(topic)) out[p] = replicas.front();
    return out;
  }

  // Runs `sluice -b <live brokers> args...`.
  CliResult RunCli(const std::string& args) {
    const std::string command =
        fmt::format("{} -b {} --timeout-ms 10000 {} 2>&1", SLUICE_CLI_PATH, Bootstrap(), args);
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

  ZooKeeperEnsemble zk_;
  std::unique_ptr<zk::ZkClient> zk_client_;
  std::vector<std::string> overrides_;
  TempDir dirs_[3];
  BrokerProcess brokers_[3];
};

// Per partition of `r`: its error code.
std::map<std::pair<std::string, int32_t>, int16_t> Results(const ElectLeadersResponse& r) {
  std::map<std::pair<std::string, int32_t>, int16_t> out;
  for (const auto& t : r.replica_election_results) {
    for (const auto& p : t.partition_result) out[{t.topic, p.partition_id}] = p.error_code;
  }
  return out;
}

ElectLeadersRequest Preferred(const std::string& topic, int32_t partitions) {
  ElectLeadersRequest r;
  r.election_type = 0;
  auto& t = r.topic_partitions->emplace_back();
  t.topic = topic;
  for (int32_t p = 0; p < partitions; ++p) t.partition_id.push_back(p);
  r.timeout_ms = 10000;
  return r;
}

TEST_F(LeaderBalanceTest, ElectLeadersGivesLeadershipBackToThePreferredReplicas) {
  StartCluster({"auto.leader.rebalance.enable=false"});
  const std::string topic = "balanced";
  KafkaClient admin(Bootstrap());
  ASSERT_EQ(0, admin.CreateTopic(topic, 6, 3));
  ASSERT_TRUE(WaitUntil([&] { return AllInSync(topic) && PreferredLead(topic); }));

  // ElectLeaders is served in a cluster, v0-2.
  {
    std::unique_ptr<rpc::Connection> c = Connect(1);
    ASSERT_TRUE(c);
    auto versions = c->Call<protocol::ApiVersionsRequest, protocol::ApiVersionsResponse>({}, 0);
    ASSERT_TRUE(versions.ok());
    auto k = std::find_if(versions->body().api_keys.begin(), versions->body().api_keys.end(),
                          [](const auto& v) { return v.api_key == 43; });
    ASSERT_NE(k, versions->body().api_keys.end());
    EXPECT_EQ(k->min_version, 0);
    EXPECT_EQ(k->max_version, 2);
  }

  const int32_t victim = NotController();
  const std::vector<int32_t> victims_own = PreferredBy(topic, victim);
  ASSERT_EQ(victims_own.size(), 2u) << "the assignment spreads preferred replicas evenly";
  broker(victim).Kill();
  ASSERT_TRUE(WaitUntil([&] { return NoneLedBy(topic, victim); }))
      << "leadership never moved off broker " << victim << "\n"
      << Outputs();
  ASSERT_TRUE(StartBroker(victim).ok()) << broker(victim).output();
  ASSERT_TRUE(WaitUntil([&] { return AllInSync(topic); }))
      << "broker " << victim << " never rejoined every ISR\n"
      << Outputs();
  // Back in the ISR, but a clean election never moves a live leader.
  for (int32_t p : victims_own) EXPECT_NE(State(topic, p)->leader, victim);
  std::map<int32_t, int32_t> epochs;
  for (int32_t p = 0; p < 6; ++p) epochs[p] = State(topic, p)->leader_epoch;

  const int32_t controller = Controller();
  auto elected = Elect(controller, 1, Preferred(topic, 6));
  ASSERT_TRUE(elected);
  // The answer waited for the broker that gave it to know the new leaders.
  EXPECT_EQ(MetadataLeaders(controller, topic), PreferredLeaders(topic));
  EXPECT_EQ(elected->error_code, kNone);
  auto results = Results(*elected);
  ASSERT_EQ(results.size(), 6u);
  for (int32_t p = 0; p < 6; ++p) {
    const bool moved = std::count(victims_own.begin(), victims_own.end(), p) > 0;
    EXPECT_EQ(results[std::make_pair(topic, p)], moved ? kNone : kElectionNotNeeded)
        << "partition " << p;
    auto s = State(topic, p);
    EXPECT_EQ(s->leader, AssignmentOf(topic).at(p).front()) << "partition " << p;
    EXPECT_EQ(s->leader_epoch, epochs[p] + (moved ? 1 : 0)) << "partition " << p;
    EXPECT_EQ(s->isr.size(), 3u);
  }
  // Every broker hears of it: Metadata from one that is not the controller.
  const int32_t observer = NotController(victim);
  EXPECT_TRUE(WaitUntil([&] {
    return MetadataLeaders(observer, topic) == PreferredLeaders(topic);
  })) << "broker "
      << observer << "'s metadata never showed the preferred leaders";
  EXPECT_TRUE(WaitUntil([&] { return MetadataLeaders(victim, topic) == PreferredLeaders(topic); }));

  // Nothing left to do: every partition (null: all of them) answers
  // ELECTION_NOT_NEEDED.
  ElectLeadersRequest all;
  all.topic_partitions = std::nullopt;
  auto again = Elect(controller, 2, all);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->error_code, kNone);
  results = Results(*again);
  for (int32_t p = 0; p < 6; ++p) {
    EXPECT_EQ(results[std::make_pair(topic, p)], kElectionNotNeeded) << "partition " << p;
  }

  // Only the controller serves it: the top-level error from v1, and per
  // partition in v0 (which has no top-level error).
  auto refused = Elect(observer, 2, Preferred(topic, 6));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error_code, kNotController);
  for (const auto& [tp, error] : Results(*refused)) EXPECT_EQ(error, kNotController);
  auto refused_v0 = Elect(observer, 0, Preferred(topic, 6));
  ASSERT_TRUE(refused_v0);
  results = Results(*refused_v0);
  EXPECT_EQ(results.size(), 6u);
  for (const auto& [tp, error] : results) EXPECT_EQ(error, kNotController);

  // Unknown partitions are named as such.
  auto unknown = Elect(controller, 1, Preferred("no-such-topic", 1));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(Results(*unknown), (std::map<std::pair<std::string, int32_t>, int16_t>{
                                   {{"no-such-topic", 0}, 3}}));  // UNKNOWN_TOPIC_OR_PARTITION
}

TEST_F(LeaderBalanceTest, TheControllerRebalancesLeadersByItself) {
  StartCluster({"auto.leader.rebalance.enable=true", "leader.imbalance.check.interval.seconds=1"});
  const std::string topic = "rebalanced";
  KafkaClient admin(Bootstrap());
  ASSERT_EQ(0, admin.CreateTopic(topic, 6, 3));
  ASSERT_TRUE(WaitUntil([&] { return AllInSync(topic) && PreferredLead(topic); }));

  // The controller itself goes: the checks move to the next controller.
  const int32_t victim = Controller();
  ASSERT_TRUE(broker(victim).Stop().ok());
  ASSERT_TRUE(WaitUntil([&] {
    const int32_t c = Controller();
    return c > 0 && c != victim && NoneLedBy(topic, victim);
  })) << "leadership never moved off broker "
      << victim << "\n"
      << Outputs();
  ASSERT_TRUE(StartBroker(victim).ok()) << broker(victim).output();
  // No request: once the broker is back in the ISR, the controller's check
  // (every second here) gives it its partitions back.
  EXPECT_TRUE(WaitUntil([&] { return AllInSync(topic) && PreferredLead(topic); }))
      << "leadership never returned to broker " << victim << "\n"
      << Outputs();
  const int32_t observer = NotController(victim);
  EXPECT_TRUE(
      WaitUntil([&] { return MetadataLeaders(observer, topic) == PreferredLeaders(topic); }));
}

TEST_F(LeaderBalanceTest, TheCliListsUnhealthyPartitionsAndElectsLeaders) {
  StartCluster({"auto.leader.rebalance.enable=false"});
  KafkaClient admin(Bootstrap());
  ASSERT_EQ(0, admin.CreateTopic("replicated", 6, 3));
  ASSERT_EQ(0, admin.CreateTopic("single", 3, 1));
  ASSERT_TRUE(WaitUntil([&] { return AllInSync("replicated") && AllInSync("single"); }));
  const int32_t victim = NotController();
  std::vector<int32_t> alone = PreferredBy("single", victim);  // its only replica
  ASSERT_EQ(alone.size(), 1u);

  ASSERT_TRUE(broker(victim).Stop().ok());
  ASSERT_TRUE(WaitUntil([&] { return NoneLedBy("replicated", victim); })) << Outputs();
  // Every partition of "replicated" lacks one ISR member; the partition of
  // "single" on the stopped broker has no leader (its ISR keeps the broker,
  // which alone has its data, so it is not under-replicated).
  std::string expected;
  CliResult under;
  EXPECT_TRUE(WaitUntil([&] {
    expected.clear();
    for (int32_t p = 0; p < 6; ++p) expected += DescribeLine("replicated", p);
    under = RunCli("topic describe --under-replicated");
    return under.exit_code == 0 && under.output == expected;
  })) << "expected:\n"
      << expected << "got:\n"
      << under.output;
  CliResult unavailable = RunCli("topic describe --unavailable");
  EXPECT_EQ(unavailable.exit_code, 0);
  EXPECT_EQ(unavailable.output, DescribeLine("single", alone[0]));
  EXPECT_NE(unavailable.output.find("Leader: none"), std::string::npos);
  CliResult one_topic = RunCli("topic describe single --under-replicated --unavailable");
  EXPECT_EQ(one_topic.output, unavailable.output);
  // An unclean election cannot help a partition whose only replica is down.
  CliResult unclean = RunCli("cluster elect-leaders --topic single --type unclean");
  EXPECT_EQ(unclean.exit_code, 1) << unclean.output;
  EXPECT_NE(
      unclean.output.find(fmt::format("single  {:<9}  ELIGIBLE_LEADERS_NOT_AVAILABLE", alone[0])),
      std::string::npos)
      << unclean.output;
  EXPECT_NE(unclean.output.find("0 elected, 2 not needed, 1 failed (unclean election)."),
            std::string::npos)
      << unclean.output;

  ASSERT_TRUE(StartBroker(victim).ok()) << broker(victim).output();
  ASSERT_TRUE(WaitUntil([&] { return AllInSync("replicated") && AllInSync("single"); }))
      << Outputs();
  EXPECT_TRUE(WaitUntil(
      [&] { return RunCli("topic describe --under-replicated --unavailable").output.empty(); }));

  // One partition by name, then the rest with everything else.
  const std::vector<int32_t> victims_own = PreferredBy("replicated", victim);
  ASSERT_EQ(victims_own.size(), 2u);
  CliResult first = RunCli(
      fmt::format("cluster elect-leaders --topic replicated --partition {}", victims_own[0]));
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(first.output, fmt::format("TOPIC       PARTITION  RESULT\n"
                                      "replicated  {:<9}  ELECTED\n"
                                      "1 elected, 0 not needed, 0 failed (preferred election).\n",
                                      victims_own[0]));
  EXPECT_EQ(State("replicated", victims_own[0])->leader, victim);
  EXPECT_NE(State("replicated", victims_own[1])->leader, victim);
  CliResult rest = RunCli("cluster elect-leaders");
  EXPECT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_NE(rest.output.find(fmt::format("replicated  {:<9}  ELECTED\n", victims_own[1])),
            std::string::npos)
      << rest.output;
  EXPECT_NE(rest.output.find("1 elected, 8 not needed, 0 failed"), std::string::npos)
      << rest.output;
  EXPECT_TRUE(PreferredLead("replicated"));
  EXPECT_TRUE(PreferredLead("single"));
}

}  // namespace
}  // namespace sluice::testing
