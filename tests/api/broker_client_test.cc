// The real sluice-broker binary driven by librdkafka over TCP: produce and
// consume round trips, topic administration, restarts and kill -9.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_process.h"
#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

class BrokerClientTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }

  void StartBroker(std::vector<std::string> overrides = {}) {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    options.overrides = std::move(overrides);
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
  }

  TempDir data_;
  BrokerProcess broker_;
  std::unique_ptr<KafkaClient> client_;
};

struct Sent {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::string header;
  DeliveryResult result;
};

// Produces `n` messages (keys k0..k9, a header each, one null key and one
// null value) asynchronously and waits for every delivery report.
std::vector<std::unique_ptr<Sent>> ProduceMany(RdKafka::Producer& producer,
                                               const std::string& topic, int n) {
  std::vector<std::unique_ptr<Sent>> sent;
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<Sent>();
    if (i != 7) s->key = "k" + std::to_string(i % 10);
    if (i != 11) s->value = "value-" + std::to_string(i) + std::string(i % 50, 'x');
    s->header = "h" + std::to_string(i);
    RdKafka::Headers* headers = RdKafka::Headers::create();
    headers->add("trace", s->header);
    RdKafka::ErrorCode err = producer.produce(
        topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        s->value ? const_cast<char*>(s->value->data()) : nullptr, s->value ? s->value->size() : 0,
        s->key ? s->key->data() : nullptr, s->key ? s->key->size() : 0, 0, headers,
        &s->result);
    if (err != RdKafka::ERR_NO_ERROR) {
      delete headers;
      s->result.err = err;
      s->result.done = true;
    }
    sent.push_back(std::move(s));
    producer.poll(0);
  }
  producer.flush(30000);
  return sent;
}

void ExpectAllDeliveredAndReadBack(KafkaClient& client, const std::string& topic, int partitions,
                                   const std::vector<std::unique_ptr<Sent>>& sent) {
  std::map<std::pair<int32_t, int64_t>, const Sent*> by_position;
  std::map<std::string, std::set<int32_t>> partitions_of_key;
  for (const auto& s : sent) {
    ASSERT_TRUE(s->result.done);
    ASSERT_EQ(RdKafka::ERR_NO_ERROR, s->result.err) << RdKafka::err2str(s->result.err);
    by_position[{s->result.partition, s->result.offset}] = s.get();
    if (s->key) partitions_of_key[*s->key].insert(s->result.partition);
  }
  ASSERT_EQ(sent.size(), by_position.size()) << "two messages acknowledged at one offset";
  for (const auto& [key, parts] : partitions_of_key) EXPECT_EQ(1u, parts.size()) << key;

  auto got = client.ConsumeAll(topic, partitions, sent.size());
  ASSERT_EQ(sent.size(), got.size());
  std::map<int32_t, int64_t> next_offset;
  for (const ConsumedMessage& m : got) {
    EXPECT_EQ(next_offset[m.partition]++, m.offset) << "partition " << m.partition;
    auto it = by_position.find({m.partition, m.offset});
    ASSERT_NE(it, by_position.end());
    EXPECT_EQ(it->second->key, m.key);
    EXPECT_EQ(it->second->value, m.value);
    ASSERT_EQ(1u, m.headers.size());
    EXPECT_EQ("trace", m.headers[0].first);
    EXPECT_EQ(it->second->header, m.headers[0].second);
  }
}

TEST_F(BrokerClientTest, RoundTripWithEveryCodec) {
  for (const std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    SCOPED_TRACE(codec);
    const std::string topic = "round-trip-" + codec;
    ASSERT_EQ(0, client_->CreateTopic(topic, 3));
    auto producer = client_->MakeProducer({{"acks", "all"}, {"compression.codec", codec}});
    auto sent = ProduceMany(*producer, topic, 300);
    ExpectAllDeliveredAndReadBack(*client_, topic, 3, sent);
  }
}

TEST_F(BrokerClientTest, IdempotentProducerWritesEachMessageOnce) {
  ASSERT_EQ(0, client_->CreateTopic("idempotent", 2));
  auto producer = client_->MakeProducer({{"enable.idempotence", "true"}});
  auto sent = ProduceMany(*producer, "idempotent", 500);
  ExpectAllDeliveredAndReadBack(*client_, "idempotent", 2, sent);
}

TEST_F(BrokerClientTest, EverythingSurvivesARestart) {
  ASSERT_EQ(0, client_->CreateTopic("durable", 2, 1, {{"retention.ms", "86400000"}}));
  auto producer = client_->MakeProducer({{"acks", "all"}});
  auto sent = ProduceMany(*producer, "durable", 200);
  producer.reset();
  auto stopped = broker_.Stop();
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(0, *stopped) << broker_.output();
  StartBroker();
  ExpectAllDeliveredAndReadBack(*client_, "durable", 2, sent);
  // The topic and its config are known again: creating it is refused.
  EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, client_->CreateTopic("durable", 2));
}

TEST_F(BrokerClientTest, TopicAdministrationErrors) {
  ASSERT_EQ(0, client_->CreateTopic("admin", 1));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, client_->CreateTopic("admin", 1));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, client_->CreateTopic("rf3", 1, 3));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_CONFIG,
            client_->CreateTopic("badcfg", 1, 1, {{"no.such.config", "1"}}));
  for (const std::string& bad :
       std::vector<std::string>{".", "..", std::string(250, 'a'), "white space", "sla/sh"}) {
    EXPECT_EQ(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, client_->CreateTopic(bad, 1)) << bad;
  }
  EXPECT_EQ(0, client_->CreateTopic(std::string(249, 'a'), 1));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, client_->DeleteTopic("never-created"));
}

TEST_F(BrokerClientTest, DeletedTopicNameIsReusableAndEmpty) {
  ASSERT_EQ(0, client_->CreateTopic("reuse", 1));
  auto producer = client_->MakeProducer({{"acks", "all"}});
  auto first = ProduceSync(*producer, "reuse", 0, std::string("k"), std::string("old"));
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, first.err);
  producer.reset();
  ASSERT_EQ(0, client_->DeleteTopic("reuse"));
  ASSERT_EQ(0, client_->CreateTopic("reuse", 1));
  producer = client_->MakeProducer({{"acks", "all"}});
  auto second = ProduceSync(*producer, "reuse", 0, std::string("k"), std::string("new"));
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, second.err);
  EXPECT_EQ(0, second.offset);
  auto got = client_->ConsumeAll("reuse", 1, 1);
  ASSERT_EQ(1u, got.size());
  EXPECT_EQ("new", got[0].value);
}

TEST_F(BrokerClientTest, OversizedBatchIsRefusedWithMessageTooLarge) {
  ASSERT_EQ(0, client_->CreateTopic("limits", 1, 1, {{"max.message.bytes", "20000"}}));
  auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  EXPECT_EQ(RdKafka::ERR_NO_ERROR,
            ProduceSync(*producer, "limits", 0, std::nullopt, std::string("before")).err);
  EXPECT_EQ(RdKafka::ERR_MSG_SIZE_TOO_LARGE,
            ProduceSync(*producer, "limits", 0, std::nullopt, std::string(40000, 'x')).err);
  auto after = ProduceSync(*producer, "limits", 0, std::nullopt, std::string("after"));
  EXPECT_EQ(RdKafka::ERR_NO_ERROR, after.err);
  EXPECT_EQ(1, after.offset);
  auto got = client_->ConsumeAll("limits", 1, 2);
  ASSERT_EQ(2u, got.size());
  EXPECT_EQ("before", got[0].value);
  EXPECT_EQ("after", got[1].value);
}

TEST_F(BrokerClientTest, WatermarksAndOffsetsForTimes) {
  ASSERT_EQ(0, client_->CreateTopic("offsets", 1));
  auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  std::vector<int64_t> stamps;
  for (int i = 0; i < 5; ++i) {
    const int64_t ts = 1'700'000'000'000 + i * 1000;
    stamps.push_back(ts);
    DeliveryResult result;
    ASSERT_EQ(RdKafka::ERR_NO_ERROR,
              producer->produce("offsets", 0, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>("v"), 1, nullptr, 0, ts, nullptr, &result));
    producer->flush(10000);
    ASSERT_EQ(RdKafka::ERR_NO_ERROR, result.err);
  }
  int64_t low = -1, high = -1;
  ASSERT_EQ(RdKafka::ERR_NO_ERROR,
            producer->query_watermark_offsets("offsets", 0, &low, &high, 10000));
  EXPECT_EQ(0, low);
  EXPECT_EQ(5, high);
  std::vector<RdKafka::TopicPartition*> tps = {
      RdKafka::TopicPartition::create("offsets", 0, stamps[2])};
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, producer->offsetsForTimes(tps, 10000));
  EXPECT_EQ(2, tps[0]->offset());
  RdKafka::TopicPartition::destroy(tps);
}

// acks=all promises that an acknowledged message survives a crash: kill -9
// the broker while a producer sends, restart, and read every acked message
// back at its offset, with no gap before it.
TEST_F(BrokerClientTest, AcknowledgedMessagesSurviveKillDashNine) {
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    const std::string topic = "crash-" + std::to_string(round);
    ASSERT_EQ(0, client_->CreateTopic(topic, 2));
    auto producer = client_->MakeProducer(
        {{"acks", "all"}, {"linger.ms", "1"}, {"message.timeout.ms", "5000"}, {"retries", "0"}});
    std::vector<std::unique_ptr<Sent>> sent;
    // One acknowledged message first, so the kill never lands before the
    // producer is connected, however slow the machine is.
    auto first = std::make_unique<Sent>();
    first->value = "first";
    first->result = ProduceSync(*producer, topic, 0, std::nullopt, first->value);
    ASSERT_EQ(RdKafka::ERR_NO_ERROR, first->result.err);
    sent.push_back(std::move(first));
    std::atomic<bool> stop{false};
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1200));
      broker_.Kill();
      stop = true;
    });
    for (int i = 0; !stop && i < 2'000'000; ++i) {
      auto s = std::make_unique<Sent>();
      s->value = "m" + std::to_string(i);
      if (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                            const_cast<char*>(s->value->data()), s->value->size(), nullptr, 0, 0,
                            nullptr, &s->result) == RdKafka::ERR_NO_ERROR) {
        sent.push_back(std::move(s));
      }
      producer->poll(0);
      if (i % 100 == 0) std::this_thread::sleep_for(1ms);
    }
    killer.join();
    producer->flush(10000);
    producer.reset();

    std::map<std::pair<int32_t, int64_t>, std::string> acked;
    std::map<int32_t, int64_t> acked_end;  // One past the highest acked offset.
    for (const auto& s : sent) {
      if (!s->result.done || s->result.err != RdKafka::ERR_NO_ERROR) continue;
      acked[{s->result.partition, s->result.offset}] = *s->value;
      acked_end[s->result.partition] =
          std::max(acked_end[s->result.partition], s->result.offset + 1);
    }
    ASSERT_FALSE(acked.empty()) << "nothing was acknowledged before the kill";
    StartBroker();
    std::map<std::pair<int32_t, int64_t>, std::string> read;
    for (auto& [p, end] : acked_end) {
      for (const auto& m : client_->ConsumePartition(topic, p, static_cast<size_t>(end))) {
        read[{m.partition, m.offset}] = m.value.value_or("");
      }
    }
    for (const auto& [pos, value] : acked) {
      auto it = read.find(pos);
      ASSERT_NE(it, read.end()) << "acked message lost at " << pos.first << "/" << pos.second
                                << " (read " << read.size() << ", acked " << acked.size() << ")";
      EXPECT_EQ(value, it->second);
    }
    for (auto& [p, end] : acked_end) {
      for (int64_t o = 0; o < end; ++o) ASSERT_TRUE(read.contains({p, o})) << "gap at " << o;
    }
  }
}

}  // namespace
}  // namespace sluice::testing
