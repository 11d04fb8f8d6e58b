// Replication end to end: real ZooKeeper, three real sluice-broker
// processes, librdkafka producing with acks=all (idempotent) and consuming.
// A topic of replication factor 3 gets leaders on every broker, followers
// copy the leaders' logs, and after kill -9 of a leader every acknowledged
// message is still there, exactly once and in order per partition, served
// by the new leader. Every wait is on an observable state, not a sleep.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/broker_process.h"
#include "support/cluster_znodes.h"
#include "support/kafka_client.h"
#include "support/metrics_scrape.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kChroot[] = "/sluice";
constexpr int kSessionTimeoutMs = 3000;

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string() + kChroot;
    for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id).ok()) << broker(id).output();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    zk_client_ = std::move(*c);
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
                         "sluice.metrics.listener=127.0.0.1:0"};
    return brokers_[static_cast<size_t>(id - 1)].Start(options);
  }
  BrokerProcess& broker(int32_t id) { return brokers_[static_cast<size_t>(id - 1)]; }
  // The running brokers but `except` (a broker id; -1: none).
  std::string Bootstrap(int32_t except = -1) {
    std::vector<std::string> out;
    for (size_t i = 0; i < std::size(brokers_); ++i) {
      if (brokers_[i].running() && static_cast<int32_t>(i) + 1 != except) {
        out.push_back(fmt::format("127.0.0.1:{}", brokers_[i].port()));
      }
    }
    return fmt::format("{}", fmt::join(out, ","));
  }

  // One series of broker `id`'s /metrics; nullopt if the scrape failed or
  // the series is missing.
  std::optional<double> Metric(int32_t id, const std::string& series) {
    auto endpoint = FindMetricsEndpoint(broker(id).output());
    if (!endpoint) return std::nullopt;
    auto body = FetchMetrics(*endpoint);
    if (!body) return std::nullopt;
    auto all = ParseExposition(*body);
    auto it = all.find(series);
    if (it == all.end()) return std::nullopt;
    return it->second;
  }
  // The same series summed over the running brokers.
  double MetricSum(const std::string& series) {
    double sum = 0;
    for (int32_t id = 1; id <= 3; ++id) {
      if (broker(id).running()) sum += Metric(id, series).value_or(0);
    }
    return sum;
  }

  std::set<int32_t> LiveIds() { return LiveBrokerIds(*zk_client_); }
  int32_t Controller() { return ControllerId(*zk_client_); }
  std::optional<zk::PartitionState> State(const std::string& topic, int32_t p) {
    return ReadPartitionState(*zk_client_, topic, p);
  }

  // Produces `n` keyed messages "<tag>-<i>" with acks=all through an
  // idempotent producer bootstrapped from the brokers but `avoid`; returns
  // the acknowledged ones per partition.
  std::map<int32_t, std::vector<std::string>> Produce(const std::string& topic, int n,
                                                      const std::string& tag,
                                                      int32_t avoid = -1) {
    KafkaClient client(Bootstrap(avoid));
    auto producer = client.MakeProducer({{"acks", "all"},
                                         {"enable.idempotence", "true"},
                                         {"message.timeout.ms", "60000"}});
    std::vector<DeliveryResult> results(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      const std::string value = fmt::format("{}-{}", tag, i);
      RdKafka::ErrorCode err;
      do {
        err = producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(value.data()), value.size(), value.data(),
                                value.size(), 0, &results[static_cast<size_t>(i)]);
        if (err == RdKafka::ERR__QUEUE_FULL) producer->poll(10);
      } while (err == RdKafka::ERR__QUEUE_FULL);
      EXPECT_EQ(err, RdKafka::ERR_NO_ERROR);
    }
    producer->flush(90000);
    std::map<int32_t, std::vector<std::string>> acked;
    std::map<std::string, int> failures;
    for (int i = 0; i < n; ++i) {
      const DeliveryResult& r = results[static_cast<size_t>(i)];
      if (r.done && r.err == RdKafka::ERR_NO_ERROR) {
        acked[r.partition].push_back(fmt::format("{}-{}", tag, i));
      } else {
        ++failures[r.done ? RdKafka::err2str(r.err) : "no delivery report"];
      }
    }
    for (const auto& [error, count] : failures) {
      ADD_FAILURE() << count << " message(s) of \"" << tag << "\" failed: " << error;
    }
    return acked;
  }

  ZooKeeperEnsemble zk_;
  std::unique_ptr<zk::ZkClient> zk_client_;
  TempDir dirs_[3];
  BrokerProcess brokers_[3];
};

TEST_F(ReplicationTest, AcknowledgedMessagesSurviveTheLeadersDeath) {
  const std::string topic = "replicated";
  KafkaClient admin(Bootstrap());
  ASSERT_EQ(0, admin.CreateTopic(topic, 3, 3, {{"min.insync.replicas", "2"}}));
  // Leaders elected on every broker, each partition's ISR all three.
  std::set<int32_t> leaders;
  ASSERT_TRUE(WaitUntil([&] {
    leaders.clear();
    for (int32_t p = 0; p < 3; ++p) {
      auto s = State(topic, p);
      if (!s || s->leader < 0 || s->isr.size() != 3) return false;
      leaders.insert(s->leader);
    }
    return true;
  }));
  EXPECT_EQ((std::set<int32_t>{1, 2, 3}), leaders);

  auto first = Produce(topic, 300, "a");
  size_t acked_first = 0;
  for (const auto& [p, v] : first) acked_first += v.size();
  ASSERT_EQ(300u, acked_first) << "every message of a healthy cluster is acknowledged";

  // kill -9 the leader of partition 0.
  const int32_t victim = State(topic, 0)->leader;
  broker(victim).Kill();
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = State(topic, 0);
        return s && s->leader >= 0 && s->leader != victim;
      },
      30s))
      << "no new leader for partition 0 (victim " << victim << ")\n"
      << broker(1).output() << broker(2).output() << broker(3).output();

  auto second = Produce(topic, 300, "b");
  size_t acked_second = 0;
  for (const auto& [p, v] : second) acked_second += v.size();
  EXPECT_EQ(300u, acked_second) << "two replicas of three are enough for min.insync.replicas=2";

  // Every acknowledged message, exactly once, in order per partition.
  KafkaClient reader(Bootstrap());
  for (int32_t p = 0; p < 3; ++p) {
    std::vector<std::string> expected = first[p];
    expected.insert(expected.end(), second[p].begin(), second[p].end());
    auto consumed = reader.ConsumePartition(topic, p, expected.size(), 60s);
    std::vector<std::string> got;
    for (const auto& m : consumed) got.push_back(m.value.value_or(""));
    EXPECT_EQ(expected, got) << "partition " << p;
  }

  // The killed broker comes back, catches up and rejoins the ISR.
  ASSERT_TRUE(StartBroker(victim).ok()) << broker(victim).output();
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (int32_t p = 0; p < 3; ++p) {
          auto s = State(topic, p);
          if (!s || s->isr.size() != 3) return false;
        }
        return true;
      },
      60s))
      << "the restarted broker never rejoined every ISR";
}

// A follower stopped (SIGSTOP) for longer than replica.lag.time.max.ms and
// its session timeout drops out of the ISR, acks=all writes go on with the
// two replicas left, and after SIGCONT it catches up and is back in the ISR.
TEST_F(ReplicationTest, AStoppedFollowerLeavesTheIsrAndComesBack) {
  const std::string topic = "paused";
  KafkaClient admin(Bootstrap());
  ASSERT_EQ(0, admin.CreateTopic(topic, 1, 3, {{"min.insync.replicas", "2"}}));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = State(topic, 0);
    return s && s->leader >= 0 && s->isr.size() == 3;
  }));
  const int32_t leader = State(topic, 0)->leader;
  const int32_t controller = Controller();
  // What an operator watches, on /metrics: one controller, every broker
  // connected to ZooKeeper, nothing offline, the leader fully replicated.
  EXPECT_EQ(1.0, MetricSum("sluice_controller_active"));
  for (int32_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(std::optional<double>(1.0), Metric(id, "sluice_zookeeper_connected")) << id;
    EXPECT_EQ(std::optional<double>(0.0), Metric(id, "sluice_cluster_offline_partitions")) << id;
  }
  EXPECT_TRUE(WaitUntil([&] {
    return Metric(leader, "sluice_replication_under_replicated_partitions") == 0.0;
  }));
  const double expands_before = Metric(leader, "sluice_replication_isr_expands_total").value_or(-1);
  // A follower that is not the controller, if there is one.
  int32_t follower = -1;
  for (int32_t id = 1; id <= 3; ++id) {
    if (id != leader && (follower < 0 || follower == controller)) follower = id;
  }
  ASSERT_EQ(0, ::kill(broker(follower).pid(), SIGSTOP));
  // Not bootstrapped from the stopped broker: the kernel still accepts its
  // connections, librdkafka falls back to assumed API versions when
  // ApiVersions times out, and a new producer may then send it
  // InitProducerId and wait its 60 s request timeout (as it would with a
  // stopped Kafka broker). Clients move on once its session expires and
  // Metadata stops naming it; this producer starts before that.
  auto during = Produce(topic, 200, "p", follower);
  EXPECT_EQ(200u, during[0].size()) << "the two live replicas acknowledge every write";
  auto s = State(topic, 0);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(2u, s->isr.size());
  EXPECT_EQ(s->isr.end(), std::find(s->isr.begin(), s->isr.end(), follower));
  // The leader reports the missing replica and its lag (the 200 writes it
  // did not fetch). isr_shrinks_total is not checked: it counts the
  // shrinks the leader asked for (as Kafka's IsrShrinksPerSec), and which
  // comes first here, the leader's lag check or the controller removing a
  // broker whose session expired, is a race.
  EXPECT_TRUE(WaitUntil([&] {
    return Metric(leader, "sluice_replication_under_replicated_partitions") == 1.0;
  }));
  EXPECT_GE(Metric(leader, "sluice_replication_max_follower_lag_messages").value_or(0), 200.0);

  ASSERT_EQ(0, ::kill(broker(follower).pid(), SIGCONT));
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto now = State(topic, 0);
        return now && now->isr.size() == 3;
      },
      60s))
      << "the follower never rejoined the ISR\n"
      << broker(follower).output();
  EXPECT_TRUE(WaitUntil([&] {
    return Metric(leader, "sluice_replication_under_replicated_partitions") == 0.0;
  }));
  EXPECT_EQ(std::optional<double>(expands_before + 1),
            Metric(leader, "sluice_replication_isr_expands_total"));
  EXPECT_TRUE(WaitUntil([&] {
    return Metric(leader, "sluice_replication_max_follower_lag_messages") == 0.0;
  })) << "the follower caught up";
  KafkaClient reader(Bootstrap());
  auto consumed = reader.ConsumePartition(topic, 0, during[0].size(), 60s);
  std::vector<std::string> got;
  for (const auto& m : consumed) got.push_back(m.value.value_or(""));
  EXPECT_EQ(during[0], got);
}

}  // namespace
}  // namespace sluice::testing
