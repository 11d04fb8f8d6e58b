// Brokers joining a cluster through ZooKeeper: real ZooKeeper, real
// sluice-broker processes, asked by librdkafka and by raw Metadata and
// DescribeCluster requests (which show racks and the cluster id, and go to
// exactly the broker named).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "network/test_client.h"
#include "protocol/api_registry.h"
#include "protocol/generated/describe_cluster.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/response_header.h"
#include "protocol/header.h"
#include "support/broker_process.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kChroot[] = "/sluice";

// What one broker says about the cluster.
struct View {
  std::map<int32_t, std::pair<std::string, int32_t>> brokers;  // id -> host, port
  std::map<int32_t, std::optional<std::string>> racks;          // raw requests only
  int32_t controller = -2;
  std::string cluster_id;                                       // raw requests only

  std::set<int32_t> ids() const {
    std::set<int32_t> out;
    for (const auto& entry : brokers) out.insert(entry.first);
    return out;
  }
};

// One request to the broker at `port` and its decoded response.
template <typename Request, typename Response>
std::optional<Response> Ask(uint16_t port, const Request& request, int16_t version) {
  network::testing::TestClient client(port);
  if (!client.connected()) return std::nullopt;
  protocol::RequestHeader header;
  header.request_api_key = Request::kApiKey;
  header.request_api_version = version;
  header.correlation_id = 7;
  header.client_id = "cluster-join-test";
  if (!client.SendFrame(protocol::EncodeRequest(header, request))) return std::nullopt;
  auto frame = client.ReadFrame(5000);
  if (!frame) return std::nullopt;
  protocol::Reader in(*frame);
  protocol::ResponseHeader response_header;
  Response response;
  if (!response_header.Decode(in, protocol::ResponseHeaderVersion(Request::kApiKey, version))
           .ok() ||
      !response.Decode(in, version).ok()) {
    return std::nullopt;
  }
  return response;
}

// Metadata v9 (no topics) from the broker at `port`.
std::optional<View> AskMetadata(uint16_t port) {
  protocol::MetadataRequest request;  // An empty topic list: brokers only.
  request.allow_auto_topic_creation = false;
  auto response = Ask<protocol::MetadataRequest, protocol::MetadataResponse>(port, request, 9);
  if (!response) return std::nullopt;
  View view;
  for (const auto& b : response->brokers) {
    view.brokers[b.node_id] = {b.host, b.port};
    view.racks[b.node_id] = b.rack;
  }
  view.controller = response->controller_id;
  view.cluster_id = response->cluster_id.value_or("");
  return view;
}

// DescribeCluster v0 from the broker at `port`.
std::optional<View> AskDescribeCluster(uint16_t port) {
  auto response = Ask<protocol::DescribeClusterRequest, protocol::DescribeClusterResponse>(
      port, protocol::DescribeClusterRequest{}, 0);
  if (!response || response->error_code != 0) return std::nullopt;
  View view;
  for (const auto& b : response->brokers) {
    view.brokers[b.broker_id] = {b.host, b.port};
    view.racks[b.broker_id] = b.rack;
  }
  view.controller = response->controller_id;
  view.cluster_id = response->cluster_id;
  return view;
}

// What librdkafka learns from the broker at `port` (its only bootstrap
// server): the brokers of a Metadata response and its controller id.
std::optional<View> AskLibrdkafka(uint16_t port) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (conf->set("bootstrap.servers", fmt::format("127.0.0.1:{}", port), error) !=
      RdKafka::Conf::CONF_OK) {
    ADD_FAILURE() << error;
    return std::nullopt;
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) {
    ADD_FAILURE() << error;
    return std::nullopt;
  }
  RdKafka::Metadata* raw = nullptr;
  if (producer->metadata(true, nullptr, &raw, 5000) != RdKafka::ERR_NO_ERROR) return std::nullopt;
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  View view;
  for (const RdKafka::BrokerMetadata* b : *metadata->brokers()) {
    view.brokers[b->id()] = {b->host(), b->port()};
  }
  view.controller = rd_kafka_controllerid(producer->c_ptr(), 5000);
  return view;
}

// The cluster.id line of a data directory's meta.properties.
std::string MetaClusterId(const std::filesystem::path& dir) {
  std::ifstream in(dir / "meta.properties");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cluster.id=", 0) == 0) return line.substr(11);
  }
  return "";
}

class ClusterJoinTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(zk_.Start().ok()); }

  std::string Connect() const { return zk_.connect_string() + kChroot; }

  // The command-line overrides of broker `id` with its data in `dir`.
  std::vector<std::string> Overrides(int32_t id, const std::filesystem::path& dir,
                                     int session_timeout_ms) const {
    return {"listeners=PLAINTEXT://127.0.0.1:0",
            "log.dirs=" + dir.string(),
            fmt::format("broker.id={}", id),
            fmt::format("broker.rack=rack-{}", id),
            "zookeeper.connect=" + Connect(),
            fmt::format("zookeeper.session.timeout.ms={}", session_timeout_ms),
            "sluice.metrics.listener="};
  }

  // Starts broker `id` (1-based) on its own data directory, kept across restarts.
  Status StartBroker(int32_t id, int session_timeout_ms = 3000) {
    BrokerProcessOptions options;
    options.default_listener = false;
    options.log_dir = dirs_[static_cast<size_t>(id - 1)].path() / "data";
    options.overrides = Overrides(id, options.log_dir, session_timeout_ms);
    return brokers_[static_cast<size_t>(id - 1)].Start(options);
  }
  BrokerProcess& broker(int32_t id) { return brokers_[static_cast<size_t>(id - 1)]; }

  // True once every running broker's Metadata and DescribeCluster list
  // exactly `ids` at their ports and agree on one controller among them.
  bool AllAgree(const std::set<int32_t>& ids, int32_t* controller = nullptr) {
    int32_t agreed = -2;
    for (int32_t id = 1; id <= 3; ++id) {
      if (!broker(id).running()) continue;
      for (auto& ask : {AskMetadata, AskDescribeCluster}) {
        std::optional<View> view = ask(broker(id).port());
        if (!view || view->ids() != ids || !ids.contains(view->controller)) return false;
        for (int32_t other : ids) {
          if (view->brokers[other].second != broker(other).port()) return false;
        }
        if (agreed != -2 && view->controller != agreed) return false;
        agreed = view->controller;
      }
    }
    if (controller != nullptr) *controller = agreed;
    return true;
  }

  std::unique_ptr<zk::ZkClient> Observer() {
    zk::ZkOptions o;
    o.connect = Connect();
    auto c = zk::ZkClient::Connect(o);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(*c) : nullptr;
  }

  ZooKeeperEnsemble zk_{1};
  TempDir dirs_[3];
  // Declared last: destroyed (killed) first, before ZooKeeper and their data.
  BrokerProcess brokers_[3];
};

TEST_F(ClusterJoinTest, ThreeBrokersSeeEachOtherAndOneController) {
  for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id).ok());
  int32_t controller = -1;
  ASSERT_TRUE(WaitUntil([&] { return AllAgree({1, 2, 3}, &controller); }));

  auto zk = Observer();
  ASSERT_NE(zk, nullptr);
  auto cluster_id = zk::DecodeClusterId(zk->Get(zk::kClusterIdPath)->data);
  ASSERT_TRUE(cluster_id.ok());
  EXPECT_EQ(zk::DecodeController(zk->Get(zk::kControllerPath)->data)->broker_id, controller);
  EXPECT_EQ(*zk->GetChildren(zk::kBrokerIdsPath), (std::vector<std::string>{"1", "2", "3"}));

  for (int32_t id = 1; id <= 3; ++id) {
    SCOPED_TRACE(fmt::format("broker {}", id));
    // A fresh data directory records the cluster's id.
    EXPECT_EQ(MetaClusterId(broker(id).log_dir()), *cluster_id);
    for (auto& ask : {AskMetadata, AskDescribeCluster}) {
      std::optional<View> view = ask(broker(id).port());
      ASSERT_TRUE(view.has_value());
      EXPECT_EQ(view->cluster_id, *cluster_id);
      for (int32_t other = 1; other <= 3; ++other) {
        EXPECT_EQ(view->brokers[other].first, "127.0.0.1");
        EXPECT_EQ(view->racks[other], fmt::format("rack-{}", other));
      }
    }
    // A real client learns the same from any one of them.
    std::optional<View> seen = AskLibrdkafka(broker(id).port());
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->ids(), (std::set<int32_t>{1, 2, 3}));
    for (int32_t other = 1; other <= 3; ++other) {
      EXPECT_EQ(seen->brokers[other], std::make_pair(std::string("127.0.0.1"),
                                                     static_cast<int32_t>(broker(other).port())));
    }
    EXPECT_EQ(seen->controller, controller);
  }
}

TEST_F(ClusterJoinTest, AKilledControllerIsReplacedWithinTheSessionTimeoutAndRejoins) {
  constexpr int kSessionTimeoutMs = 3000;
  for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id, kSessionTimeoutMs).ok());
  int32_t first = -1;
  ASSERT_TRUE(WaitUntil([&] { return AllAgree({1, 2, 3}, &first); }));

  broker(first).Kill();  // kill -9: its znodes stay until its session expires.
  const auto killed_at = std::chrono::steady_clock::now();
  std::set<int32_t> rest = {1, 2, 3};
  rest.erase(first);
  int32_t second = -1;
  // The session timeout, plus the server's expiry tick and the brokers'
  // reaction, with room for a loaded machine.
  ASSERT_TRUE(WaitUntil([&] { return AllAgree(rest, &second); },
                        std::chrono::milliseconds(kSessionTimeoutMs) + 10s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  EXPECT_NE(second, first);
  RecordProperty("failover_ms", static_cast<int>(took.count()));
  for (int32_t id : rest) {
    std::optional<View> seen = AskLibrdkafka(broker(id).port());
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->ids(), rest);
    EXPECT_EQ(seen->controller, second);
  }

  ASSERT_TRUE(StartBroker(first, kSessionTimeoutMs).ok());  // The same id and data.
  int32_t third = -1;
  ASSERT_TRUE(WaitUntil([&] { return AllAgree({1, 2, 3}, &third); }));
  EXPECT_EQ(third, second);  // A returning broker does not take the controller back.
}

TEST_F(ClusterJoinTest, SigtermRemovesTheBrokerAndItsControllershipAtOnce) {
  // A long session timeout: only a clean leave can be this quick.
  constexpr int kSessionTimeoutMs = 20000;
  ASSERT_TRUE(StartBroker(1, kSessionTimeoutMs).ok());
  ASSERT_TRUE(WaitUntil([&] { return AllAgree({1}); }));  // 1 is the controller.
  ASSERT_TRUE(StartBroker(2, kSessionTimeoutMs).ok());
  int32_t controller = -1;
  ASSERT_TRUE(WaitUntil([&] { return AllAgree({1, 2}, &controller); }));
  ASSERT_EQ(controller, 1);
  auto zk = Observer();
  ASSERT_NE(zk, nullptr);

  const auto stopping_at = std::chrono::steady_clock::now();
  auto code = broker(1).Stop();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << broker(1).output();
  auto node = zk->Exists(zk::BrokerPath(1));
  ASSERT_TRUE(node.ok());
  EXPECT_FALSE(node->has_value()) << "/brokers/ids/1 outlived its broker";
  ASSERT_TRUE(WaitUntil([&] { return AllAgree({2}); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - stopping_at,
            std::chrono::milliseconds(kSessionTimeoutMs));
  EXPECT_EQ(zk::DecodeController(zk->Get(zk::kControllerPath)->data)->broker_id, 2);
  EXPECT_NE(broker(1).output().find("left the cluster"), std::string::npos)
      << broker(1).output();
}

TEST_F(ClusterJoinTest, ABrokerWhoseDataBelongsToAnotherClusterRefusesToStart) {
  ASSERT_TRUE(StartBroker(1).ok());
  const std::filesystem::path data = dirs_[1].path() / "data";
  std::filesystem::create_directories(data);
  const std::string foreign = "version=0\nbroker.id=2\ncluster.id=AnotherClusterIdXXXXXX\n";
  std::ofstream(data / "meta.properties") << foreign;

  std::vector<std::string> args;
  for (const std::string& o : Overrides(2, data, 3000)) args.insert(args.end(), {"--override", o});
  auto run = BrokerProcess::Run(args);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_NE(run->first, 0) << run->second;
  EXPECT_NE(run->second.find("inconsistent cluster id"), std::string::npos) << run->second;
  EXPECT_NE(run->second.find("AnotherClusterIdXXXXXX"), std::string::npos) << run->second;
  std::stringstream kept;
  kept << std::ifstream(data / "meta.properties").rdbuf();
  EXPECT_EQ(kept.str(), foreign);
  auto zk = Observer();
  ASSERT_NE(zk, nullptr);
  EXPECT_EQ(*zk->GetChildren(zk::kBrokerIdsPath), std::vector<std::string>{"1"});
}

TEST_F(ClusterJoinTest, ASecondBrokerWithALiveBrokersIdRefusesToStart) {
  constexpr int kSessionTimeoutMs = 2000;
  ASSERT_TRUE(StartBroker(1, kSessionTimeoutMs).ok());
  auto zk = Observer();
  ASSERT_NE(zk, nullptr);
  auto before = zk->Exists(zk::BrokerPath(1));
  ASSERT_TRUE(before.ok() && before->has_value());

  // Broker id 1 again, on data of its own: it waits out the session
  // timeout (the node could be a killed process's) and then gives up.
  std::vector<std::string> args;
  for (const std::string& o : Overrides(1, dirs_[1].path() / "data", kSessionTimeoutMs)) {
    args.insert(args.end(), {"--override", o});
  }
  auto run = BrokerProcess::Run(args, 60s);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_NE(run->first, 0) << run->second;
  EXPECT_NE(run->second.find("another live broker has id 1"), std::string::npos) << run->second;

  auto after = zk->Exists(zk::BrokerPath(1));
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->ephemeral_owner, (*before)->ephemeral_owner);  // Still the first's.
  EXPECT_TRUE(AllAgree({1}));
}

// Without zookeeper.connect nothing of the above exists: the broker is its
// own cluster and controller, and runs no controller thread.
TEST(SingleNodeTest, WithoutZooKeeperTheBrokerIsItsOwnCluster) {
  BrokerProcess b;
  BrokerProcessOptions options;
  options.overrides = {"broker.id=4", "broker.rack=r1", "sluice.metrics.listener="};
  ASSERT_TRUE(b.Start(options).ok());
  for (auto& ask : {AskMetadata, AskDescribeCluster}) {
    std::optional<View> view = ask(b.port());
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->ids(), std::set<int32_t>{4});
    EXPECT_EQ(view->brokers[4], std::make_pair(std::string("127.0.0.1"),
                                               static_cast<int32_t>(b.port())));
    EXPECT_EQ(view->racks[4], "r1");
    EXPECT_EQ(view->controller, 4);
    EXPECT_EQ(view->cluster_id, MetaClusterId(b.log_dir()));
  }
  for (const auto& task :
       std::filesystem::directory_iterator(fmt::format("/proc/{}/task", b.pid()))) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    EXPECT_NE(name, "controller");
  }
  auto code = b.Stop();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace sluice::testing
