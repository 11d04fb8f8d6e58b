// Controlled shutdown end to end: real ZooKeeper, three real sluice-broker
// processes, librdkafka producing with acks=all (idempotent) while a broker
// stops. SIGTERM to a partition's leader moves the leadership to another
// in-sync replica while the broker is still registered (the partition's
// state znode was written in an earlier ZooKeeper transaction than the one
// that removed the registration), the broker exits 0, the producer sees no
// error, every acknowledged message is read back exactly once and in order,
// and the restarted broker rejoins the ISR. A broker whose partitions no
// other replica can lead retries as configured and stops all the same.
// Every wait is on an observable state, not a sleep.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "protocol/error_code.h"
#include "protocol/generated/controlled_shutdown.h"
#include "rpc/connection.h"
#include "support/broker_process.h"
#include "support/cluster_znodes.h"
#include "support/kafka_client.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kChroot[] = "/sluice";
// Long enough that a producer waiting out a dead leader's session would
// show as a pause of that length.
constexpr int kSessionTimeoutMs = 6000;

// Produces "m<i>" to one partition, about one message a millisecond, with
// an idempotent acks=all producer on a thread of its own until Stop, and
// keeps every delivery report with the time it was seen.
class SteadyProducer {
 public:
  struct Sent {
    std::string value;
    DeliveryResult result;
    Clock::time_point acked_at;
  };

  SteadyProducer(const std::string& bootstrap, std::string topic, int32_t partition)
      : client_(bootstrap), topic_(std::move(topic)), partition_(partition) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SteadyProducer() { Stop(); }

  size_t acked() const { return acked_.load(); }
  // Stops producing and waits for every delivery report.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // After Stop.
  const std::deque<Sent>& sent() const { return sent_; }

 private:
  void Run() {
    auto producer = client_.MakeProducer({{"acks", "all"},
                                          {"enable.idempotence", "true"},
                                          {"linger.ms", "1"},
                                          {"message.timeout.ms", "60000"}});
    size_t stamped = 0;  // Reports arrive in order: one partition, idempotent.
    auto stamp = [&] {
      while (stamped < sent_.size() && sent_[stamped].result.done) {
        sent_[stamped].acked_at = Clock::now();
        if (sent_[stamped].result.err == RdKafka::ERR_NO_ERROR) ++acked_;
        ++stamped;
      }
    };
    while (!stop_) {
      Sent& s = sent_.emplace_back();
      s.value = fmt::format("m{}", sent_.size() - 1);
      RdKafka::ErrorCode err =
          producer->produce(topic_, partition_, RdKafka::Producer::RK_MSG_COPY, s.value.data(),
                            s.value.size(), nullptr, 0, 0, &s.result);
      if (err != RdKafka::ERR_NO_ERROR) {
        sent_.pop_back();  // Not queued (a full queue): try again after a poll.
      }
      producer->poll(1);
      stamp();
    }
    while (stamped < sent_.size() && producer->outq_len() > 0) {
      producer->poll(10);
      stamp();
    }
    producer->flush(60000);
    producer->poll(0);
    stamp();
  }

  KafkaClient client_;
  const std::string topic_;
  const int32_t partition_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0};
  std::deque<Sent> sent_;  // The producer thread's until Stop.
  std::thread thread_;
};

class ControlledShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id).ok()) << broker(id).output();
    zk::ZkOptions o;
    o.connect = zk_.connect_string() + kChroot;
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
                         "controlled.shutdown.max.retries=2",
                         "controlled.shutdown.retry.backoff.ms=100",
                         "sluice.metrics.listener="};
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
  // CreateTopics through the brokers, asked again while the one that answers
  // does not see every broker live yet (INVALID_REPLICATION_FACTOR): the
  // registrations are in ZooKeeper before every broker's watch has fired.
  int CreateTopic(const std::string& topic, int partitions, int replication_factor,
                  const std::map<std::string, std::string>& configs = {}) {
    KafkaClient admin(Bootstrap());
    int error = -1;
    WaitUntil([&] {
      error = admin.CreateTopic(topic, partitions, replication_factor, configs);
      return error != 38;
    });
    return error;
  }
  // Waits until every partition of `topic` has a leader and a full ISR.
  bool WaitForFullIsrs(const std::string& topic, int32_t partitions, size_t isr,
                       std::chrono::milliseconds timeout = 30s) {
    return WaitUntil(
        [&] {
          for (int32_t p = 0; p < partitions; ++p) {
            auto s = State(topic, p);
            if (!s || s->leader < 0 || s->isr.size() != isr) return false;
          }
          return true;
        },
        timeout);
  }

  ZooKeeperEnsemble zk_;
  std::unique_ptr<zk::ZkClient> zk_client_;
  TempDir dirs_[3];
  BrokerProcess brokers_[3];
};

TEST_F(ControlledShutdownTest, LeadershipMovesBeforeTheLeaderLeavesAndNoWriteIsLost) {
  const std::string topic = "moving";
  ASSERT_EQ(0, CreateTopic(topic, 3, 3, {{"min.insync.replicas", "2"}}));
  ASSERT_TRUE(WaitForFullIsrs(topic, 3, 3)) << Outputs();
  // A partition led by a broker that is not the controller (leaders are
  // spread over the three brokers), so that the controller's view is not
  // the one going away.
  const int32_t controller = Controller();
  int32_t partition = -1;
  for (int32_t p = 0; p < 3 && partition < 0; ++p) {
    if (State(topic, p)->leader != controller) partition = p;
  }
  ASSERT_GE(partition, 0);
  const zk::PartitionState before = *State(topic, partition);
  const int32_t victim = before.leader;

  SteadyProducer producer(Bootstrap(), topic, partition);
  ASSERT_TRUE(WaitUntil([&] { return producer.acked() >= 200; })) << Outputs();
  auto stopped = broker(victim).Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << broker(victim).output();
  const size_t acked_at_stop = producer.acked();

  // The leadership moved, and before the registration went: the state's
  // last write is older than the last change of /brokers/ids' children.
  auto state_node = zk_client_->Get(zk::PartitionStatePath(topic, partition));
  ASSERT_TRUE(state_node.ok());
  const zk::PartitionState after = *zk::DecodePartitionState(state_node->data);
  EXPECT_NE(after.leader, victim);
  EXPECT_GE(after.leader, 1);
  EXPECT_GT(after.leader_epoch, before.leader_epoch);
  EXPECT_EQ(std::count(after.isr.begin(), after.isr.end(), victim), 0);
  auto ids = zk_client_->Exists(zk::kBrokerIdsPath);
  ASSERT_TRUE(ids.ok() && ids->has_value());
  EXPECT_FALSE(LiveIds().contains(victim));
  EXPECT_LT(state_node->stat.mzxid, (*ids)->pzxid)
      << "the partition's state was written after broker " << victim << " deregistered";
  EXPECT_NE(broker(victim).output().find("the controller moved every leadership away"),
            std::string::npos)
      << broker(victim).output();

  // Writes go on with the two replicas left.
  ASSERT_TRUE(WaitUntil([&] { return producer.acked() >= acked_at_stop + 300; })) << Outputs();
  producer.Stop();
  std::vector<std::string> acked;
  std::map<std::string, int> failures;
  Clock::duration longest_gap{};
  std::optional<Clock::time_point> previous;
  for (const SteadyProducer::Sent& s : producer.sent()) {
    if (!s.result.done || s.result.err != RdKafka::ERR_NO_ERROR) {
      ++failures[s.result.done ? RdKafka::err2str(s.result.err) : "no delivery report"];
      continue;
    }
    acked.push_back(s.value);
    if (previous) longest_gap = std::max(longest_gap, s.acked_at - *previous);
    previous = s.acked_at;
  }
  for (const auto& [error, count] : failures) ADD_FAILURE() << count << " failed: " << error;
  const auto gap_ms = std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count();
  std::printf("%zu acknowledged; the longest pause between two acknowledgements: %lld ms\n",
              acked.size(), static_cast<long long>(gap_ms));
  EXPECT_LT(gap_ms, kSessionTimeoutMs) << "the producer waited as long as a session timeout";

  // Every acknowledged message, exactly once, in order.
  KafkaClient reader(Bootstrap());
  auto consumed = reader.ConsumePartition(topic, partition, acked.size(), 60s);
  std::vector<std::string> got;
  for (const auto& m : consumed) got.push_back(m.value.value_or(""));
  EXPECT_EQ(acked, got);

  // Back again, it catches up and rejoins the ISR.
  ASSERT_TRUE(StartBroker(victim).ok()) << broker(victim).output();
  EXPECT_TRUE(WaitForFullIsrs(topic, 3, 3, 60s)) << "broker " << victim << " did not rejoin\n"
                                                 << Outputs();
}

TEST_F(ControlledShutdownTest, PartitionsNoOtherReplicaCanLeadAreRetriedThenLeftBehind) {
  const std::string topic = "solo";
  ASSERT_EQ(0, CreateTopic(topic, 3, 1));
  ASSERT_TRUE(WaitForFullIsrs(topic, 3, 1)) << Outputs();
  const int32_t controller = Controller();
  int32_t partition = -1;
  for (int32_t p = 0; p < 3; ++p) {
    if (State(topic, p)->leader == controller) partition = p;
  }
  ASSERT_GE(partition, 0) << "one partition on each broker, the controller's among them";

  // Only the controller serves ControlledShutdown.
  const int32_t other = controller % 3 + 1;
  {
    auto conn = rpc::Connection::Connect("127.0.0.1", broker(other).port(), {});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    protocol::ControlledShutdownRequest request;
    request.broker_id = other;
    for (int16_t version : {int16_t{0}, int16_t{3}}) {
      auto reply =
          (*conn)->Call<protocol::ControlledShutdownRequest, protocol::ControlledShutdownResponse>(
              request, version);
      ASSERT_TRUE(reply.ok()) << reply.status().ToString();
      EXPECT_EQ(reply->body().error_code, protocol::ToWire(protocol::ErrorCode::NOT_CONTROLLER));
      EXPECT_TRUE(reply->body().remaining_partitions.empty());
    }
  }

  // The controller itself stops: it asks itself, is told it still leads its
  // partition of "solo", asks once more (max.retries=2) and stops anyway.
  const auto begin = Clock::now();
  auto stopped = broker(controller).Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << broker(controller).output();
  EXPECT_LT(Clock::now() - begin, 20s);
  const std::string out = broker(controller).output();
  const std::string led = fmt::format("{}-{}", topic, partition);
  EXPECT_NE(out.find("attempt 1 of 2: 1 partition(s) still led here (no other in-sync replica "
                     "can take them): " +
                     led),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("attempt 2 of 2: 1 partition(s) still led here"), std::string::npos) << out;
  EXPECT_NE(out.find("did not complete after 2 attempt(s)"), std::string::npos) << out;
  // The other brokers' partitions kept their leaders.
  for (int32_t p = 0; p < 3; ++p) {
    if (p == partition) continue;
    auto s = State(topic, p);
    ASSERT_TRUE(s);
    EXPECT_NE(s->leader, controller);
    EXPECT_GE(s->leader, 1);
  }
}

}  // namespace
}  // namespace sluice::testing
