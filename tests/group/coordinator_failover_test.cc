// Consumer groups in a cluster, end to end: real ZooKeeper, three real
// sluice-broker processes, librdkafka consumers. Members that bootstrap
// from different brokers find the same coordinator (the leader of their
// group's __consumer_offsets partition) and share one group; offsets they
// commit are replicated, so after kill -9 of the coordinator the group's
// new coordinator (the partition's new leader) still has them and a
// consumer resumes exactly where the group committed. Every wait is on an
// observable state, not a sleep.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "api/group_member.h"
#include "group/offsets_record.h"
#include "support/broker_process.h"
#include "support/cluster_znodes.h"
#include "support/kafka_client.h"
#include "support/temp_dir.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kChroot[] = "/sluice";
constexpr int kSessionTimeoutMs = 3000;
constexpr int kOffsetsPartitions = 3;
constexpr char kOffsetsTopic[] = "__consumer_offsets";

class CoordinatorFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string() + kChroot;
    for (int32_t id = 1; id <= 3; ++id) ASSERT_TRUE(StartBroker(id).ok()) << broker(id).output();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    zk_client_ = std::move(*c);
    ASSERT_TRUE(WaitUntil([&] { return LiveIds().size() == 3 && Controller() > 0; }, 30s));
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
                         fmt::format("offsets.topic.num.partitions={}", kOffsetsPartitions),
                         "offsets.topic.replication.factor=3",
                         "group.initial.rebalance.delay.ms=0",
                         "sluice.metrics.listener="};
    return brokers_[static_cast<size_t>(id - 1)].Start(options);
  }
  BrokerProcess& broker(int32_t id) { return brokers_[static_cast<size_t>(id - 1)]; }
  std::string Address(int32_t id) { return fmt::format("127.0.0.1:{}", broker(id).port()); }
  std::string Bootstrap() {
    std::vector<std::string> out;
    for (int32_t id = 1; id <= 3; ++id) {
      if (broker(id).running()) out.push_back(Address(id));
    }
    return fmt::format("{}", fmt::join(out, ","));
  }
  std::string Outputs() { return broker(1).output() + broker(2).output() + broker(3).output(); }

  std::set<int32_t> LiveIds() { return LiveBrokerIds(*zk_client_); }
  int32_t Controller() { return ControllerId(*zk_client_); }
  std::optional<zk::PartitionState> State(const std::string& topic, int32_t p) {
    return ReadPartitionState(*zk_client_, topic, p);
  }
  bool FullyReplicated(const std::string& topic, int32_t partitions) {
    for (int32_t p = 0; p < partitions; ++p) {
      auto s = State(topic, p);
      if (!s || s->leader < 0 || s->isr.size() != 3) return false;
    }
    return true;
  }

  ZooKeeperEnsemble zk_;
  std::unique_ptr<zk::ZkClient> zk_client_;
  TempDir dirs_[3];
  BrokerProcess brokers_[3];
};

TEST_F(CoordinatorFailoverTest, CommittedOffsetsSurviveTheCoordinatorsDeath) {
  const std::string topic = "orders";
  const std::string group = "billing";
  constexpr int kPartitions = 4;
  constexpr int kPerPartition = 10;
  constexpr int64_t kCommitted = 7;  // the next offset to read, per partition

  KafkaClient admin(Bootstrap());
  ASSERT_EQ(0, admin.CreateTopic(topic, kPartitions, 3));
  ASSERT_TRUE(WaitUntil([&] { return FullyReplicated(topic, kPartitions); }, 30s));
  {
    auto producer = admin.MakeProducer({{"acks", "all"}});
    for (int p = 0; p < kPartitions; ++p) {
      for (int i = 0; i < kPerPartition; ++i) {
        DeliveryResult r = ProduceSync(*producer, topic, p, std::nullopt, fmt::format("{}-{}", p, i));
        ASSERT_EQ(r.err, RdKafka::ERR_NO_ERROR) << "partition " << p << " message " << i;
      }
    }
  }

  // Two members, each knowing a different broker only: one group.
  auto a = std::make_unique<GroupMember>(Address(1), group, topic);
  auto b = std::make_unique<GroupMember>(Address(2), group, topic);
  auto shared_all = [&] {
    std::set<int32_t> oa = a->owned(), ob = b->owned();
    if (oa.empty() || ob.empty()) return false;
    std::set<int32_t> all = oa;
    all.insert(ob.begin(), ob.end());
    return all.size() == kPartitions && oa.size() + ob.size() == kPartitions;
  };
  ASSERT_TRUE(WaitUntil(shared_all, 90s))
      << "members did not share the partitions in one group\n" << Outputs();

  // The group's offsets partition exists, is led and fully replicated.
  const int32_t index = group::OffsetsPartitionFor(group, kOffsetsPartitions);
  ASSERT_TRUE(WaitUntil([&] { return FullyReplicated(kOffsetsTopic, kOffsetsPartitions); }, 30s));
  const int32_t coordinator = State(kOffsetsTopic, index)->leader;

  // Each member commits kCommitted for the partitions it owns (the
  // assignment is stable: both are in it and it covers everything).
  ASSERT_TRUE(shared_all());
  std::map<int32_t, int64_t> mine_a, mine_b;
  for (int32_t p : a->owned()) mine_a[p] = kCommitted;
  for (int32_t p : b->owned()) mine_b[p] = kCommitted;
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, a->Commit(topic, mine_a));
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, b->Commit(topic, mine_b));
  std::map<int32_t, int64_t> expected;
  for (int32_t p = 0; p < kPartitions; ++p) expected[p] = kCommitted;
  ASSERT_EQ(expected, a->Committed(topic, kPartitions));
  a->Close();
  b->Close();
  a.reset();
  b.reset();

  // kill -9 the coordinator; another replica of the offsets partition leads.
  broker(coordinator).Kill();
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = State(kOffsetsTopic, index);
        return s && s->leader >= 0 && s->leader != coordinator;
      },
      30s))
      << "no new leader for " << kOffsetsTopic << "-" << index << "\n" << Outputs();

  // A member of the same group resumes exactly at the committed offsets.
  GroupMember c(Bootstrap(), group, topic);
  const size_t remaining = static_cast<size_t>(kPartitions * (kPerPartition - kCommitted));
  ASSERT_TRUE(WaitUntil([&] { return c.message_count() >= remaining; }, 90s))
      << "resumed consumer read " << c.message_count() << " of " << remaining << "\n"
      << Outputs();
  std::map<int32_t, std::vector<int64_t>> read;
  for (const ConsumedMessage& m : c.messages()) read[m.partition].push_back(m.offset);
  for (int32_t p = 0; p < kPartitions; ++p) {
    std::vector<int64_t> want;
    for (int64_t o = kCommitted; o < kPerPartition; ++o) want.push_back(o);
    EXPECT_EQ(want, read[p]) << "partition " << p << " did not resume at the committed offset";
  }
  EXPECT_EQ(expected, c.Committed(topic, kPartitions));
  c.Close();
}

}  // namespace
}  // namespace sluice::testing
