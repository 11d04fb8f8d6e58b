// Replicas that were away. A follower away while its leader's retention
// deleted everything up to past its log end: the leader answers its fetch
// OFFSET_OUT_OF_RANGE, and it must start its log over at the leader's log
// start (as Kafka's follower does), catch up and rejoin the ISR, and be
// able to lead with every message the leader still had. A replica whose
// topic was deleted meanwhile: its log goes when it comes back. Real
// ZooKeeper, three real brokers (tests/support/cluster_fixture.h),
// librdkafka; every wait is on an observable state.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/cluster_fixture.h"
#include "support/kafka_client.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

// Produces `count` values "<prefix><i>" (padded to ~200 bytes) to partition 0
// with acks=all; false if any failed.
bool Produce(const std::string& bootstrap, const std::string& topic, const std::string& prefix,
             int count) {
  KafkaClient client(bootstrap);
  // Small batches: a segment rolls only between batches, and one batch of
  // all the messages (a fast broker, a lingering producer) would leave
  // retention a single active segment it may not delete.
  auto producer = client.MakeProducer(
      {{"acks", "all"}, {"linger.ms", "5"}, {"batch.num.messages", "20"}});
  std::vector<DeliveryResult> results(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::string v = fmt::format("{}{:06d}", prefix, i) + std::string(190, 'x');
    while (producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, v.data(), v.size(), nullptr,
                             0, 0, &results[static_cast<size_t>(i)]) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(10);
    }
    producer->poll(0);
  }
  if (producer->flush(60000) != RdKafka::ERR_NO_ERROR) return false;
  producer->poll(0);
  return std::all_of(results.begin(), results.end(),
                     [](const DeliveryResult& r) { return r.err == RdKafka::ERR_NO_ERROR; });
}

// The leader's log start (low watermark) of partition 0, or -1.
int64_t LogStart(const std::string& bootstrap, const std::string& topic) {
  KafkaClient client(bootstrap);
  auto producer = client.MakeProducer();
  int64_t low = -1;
  int64_t high = -1;
  if (producer->query_watermark_offsets(topic, 0, &low, &high, 5000) != RdKafka::ERR_NO_ERROR) {
    return -1;
  }
  return low;
}

TEST(FollowerCatchUpTest, AFollowerBehindItsLeadersLogStartStartsOverAndRejoinsTheIsr) {
  BrokerCluster cluster({.overrides = {"log.retention.check.interval.ms=200"}});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.Outputs();
  const std::string topic = "behind";
  {
    KafkaClient admin(cluster.Bootstrap());
    int error = -1;
    WaitUntil([&] {
      error = admin.CreateTopic(topic, {{1, 2}},
                                {{"segment.bytes", "20000"}, {"retention.bytes", "40000"}});
      return error != 38 && error != 39;  // Not every broker seen live yet.
    });
    ASSERT_EQ(error, 0);
  }
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster.State(topic, 0);
    return s && s->leader == 1 && s->isr.size() == 2;
  })) << cluster.Outputs();
  ASSERT_TRUE(Produce(cluster.Bootstrap(), topic, "before-", 50)) << cluster.Outputs();

  // The follower stops; meanwhile its leader takes ~500 kB and its
  // retention deletes everything the follower had, and more.
  auto stopped = cluster.broker(2).Stop();
  ASSERT_TRUE(stopped.ok() && *stopped == 0) << cluster.Outputs();
  ASSERT_TRUE(Produce(cluster.Bootstrap(), topic, "away-", 2500)) << cluster.Outputs();
  ASSERT_TRUE(WaitUntil([&] { return LogStart(cluster.Bootstrap(), topic) > 1000; }, 60s))
      << cluster.Outputs();

  // Back: it starts over at the leader's log start and rejoins the ISR.
  ASSERT_TRUE(cluster.StartBroker(2).ok()) << cluster.Outputs();
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = cluster.State(topic, 0);
        return s && std::find(s->isr.begin(), s->isr.end(), 2) != s->isr.end();
      },
      60s))
      << cluster.Outputs();
  EXPECT_NE(cluster.broker(2).output().find("starting the log over there"), std::string::npos);

  // It can lead: with the first leader gone, it serves everything from the
  // log start on, down to the last message.
  ASSERT_TRUE(Produce(cluster.Bootstrap(), topic, "after-", 10)) << cluster.Outputs();
  auto first = cluster.broker(1).Stop();
  ASSERT_TRUE(first.ok() && *first == 0) << cluster.Outputs();
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster.State(topic, 0);
    return s && s->leader == 2;
  })) << cluster.Outputs();
  KafkaClient reader(cluster.Bootstrap());
  const auto got = reader.ConsumePartitionToEnd(topic, 0, 60s);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().value.value_or("").substr(0, 12), "after-000009");
  // Contiguous from the log start: every "away-" message from the first one
  // kept, in order, then the ten "after-" ones.
  int expected_away = -1;
  for (const auto& m : got) {
    const std::string v = m.value.value_or("");
    if (v.rfind("away-", 0) != 0) break;
    const int i = std::stoi(v.substr(5, 6));
    if (expected_away >= 0) {
      ASSERT_EQ(i, expected_away) << "a gap in what the restarted follower serves";
    }
    expected_away = i + 1;
  }
  EXPECT_EQ(expected_away, 2500);
  EXPECT_EQ(got.size() - static_cast<size_t>(std::count_if(got.begin(), got.end(), [](const auto& m) {
              return m.value.value_or("").rfind("away-", 0) == 0;
            })),
            10u);
  ASSERT_TRUE(cluster.StopBrokers().ok()) << cluster.Outputs();
}

// A broker away while a topic it held is deleted and a topic of the same
// name is made on the other brokers never got the StopReplica: its old log
// is stray. Back, the controller's full LeaderAndIsr does not list it, and
// the broker deletes it instead of keeping the earlier topic's data under
// the new topic's name.
TEST(FollowerCatchUpTest, ALogOfADeletedTopicIsDeletedWhenItsBrokerComesBack) {
  BrokerCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.Outputs();
  const std::string topic = "reused";
  KafkaClient admin(cluster.Bootstrap());
  int error = -1;
  WaitUntil([&] {
    error = admin.CreateTopic(topic, {{1, 2, 3}});
    return error != 38 && error != 39;  // Not every broker seen live yet.
  });
  ASSERT_EQ(error, 0);
  ASSERT_TRUE(WaitUntil([&] { return cluster.FullyReplicated(topic, 1); })) << cluster.Outputs();
  ASSERT_TRUE(Produce(cluster.Bootstrap(), topic, "old-", 20)) << cluster.Outputs();
  const auto stray = cluster.LogDir(3) / (topic + "-0");
  ASSERT_TRUE(std::filesystem::exists(stray));

  auto stopped = cluster.broker(3).Stop();
  ASSERT_TRUE(stopped.ok() && *stopped == 0) << cluster.Outputs();
  KafkaClient survivors(fmt::format("127.0.0.1:{},127.0.0.1:{}", cluster.broker(1).port(),
                                    cluster.broker(2).port()));
  ASSERT_EQ(0, survivors.DeleteTopic(topic)) << cluster.Outputs();
  ASSERT_TRUE(WaitUntil([&] { return !cluster.State(topic, 0).has_value(); }))
      << cluster.Outputs();
  ASSERT_EQ(0, survivors.CreateTopic(topic, {{1, 2}})) << cluster.Outputs();
  ASSERT_TRUE(WaitUntil([&] {
    auto s = cluster.State(topic, 0);
    return s && s->isr.size() == 2;
  })) << cluster.Outputs();
  ASSERT_TRUE(Produce(survivors.bootstrap(), topic, "new-", 5)) << cluster.Outputs();
  ASSERT_TRUE(std::filesystem::exists(stray)) << "nothing told the broker while it was away";

  ASSERT_TRUE(cluster.StartBroker(3).ok()) << cluster.Outputs();
  ASSERT_TRUE(WaitUntil([&] { return !std::filesystem::exists(stray); }))
      << cluster.broker(3).output();
  EXPECT_NE(cluster.broker(3).output().find("partitions [0] are on disk but the controller"),
            std::string::npos)
      << cluster.broker(3).output();

  const auto got = admin.ConsumePartitionToEnd(topic, 0);
  ASSERT_EQ(got.size(), 5u);
  for (const auto& m : got) EXPECT_EQ(m.value.value_or("").substr(0, 4), "new-");
  ASSERT_TRUE(cluster.StopBrokers().ok()) << cluster.Outputs();
}

}  // namespace
}  // namespace sluice::testing
