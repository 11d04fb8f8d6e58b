// Log compaction through the real broker and librdkafka: a topic with
// cleanup.policy=compact shrinks to the latest value per key at the offsets
// the producer was acknowledged, tombstones go after delete.retention.ms, and
// kill -9 while the cleaner runs loses no acknowledged latest value.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_process.h"
#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

// Small segments and a cleaner that looks every 50 ms.
const std::map<std::string, std::string> kCompactTopic = {
    {"cleanup.policy", "compact"},
    {"segment.bytes", "4096"},
    {"min.cleanable.dirty.ratio", "0.01"},
};

class CompactionTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }

  void StartBroker() {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    options.overrides = {"log.cleaner.backoff.ms=50"};
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
  }

  TempDir data_;
  BrokerProcess broker_;
  std::unique_ptr<KafkaClient> client_;
};

struct Sent {
  std::string key;
  std::optional<std::string> value;
  DeliveryResult result;
};

void Produce(RdKafka::Producer& p, const std::string& topic, Sent* s) {
  if (p.produce(topic, 0, RdKafka::Producer::RK_MSG_COPY,
                s->value ? const_cast<char*>(s->value->data()) : nullptr,
                s->value ? s->value->size() : 0, s->key.data(), s->key.size(), 0, nullptr,
                &s->result) != RdKafka::ERR_NO_ERROR) {
    s->result.done = true;
    s->result.err = RdKafka::ERR__QUEUE_FULL;
  }
  p.poll(0);
}

TEST_F(CompactionTest, CompactedTopicKeepsTheLatestValuePerKeyAtItsOffset) {
  ASSERT_EQ(0, client_->CreateTopic("compacted", 1, 1, kCompactTopic));
  // Small batches: a segment (4 KiB) holds several, and the cleaner never
  // touches the active one.
  auto producer = client_->MakeProducer(
      {{"acks", "all"}, {"compression.codec", "lz4"}, {"batch.num.messages", "20"}});
  std::vector<std::unique_ptr<Sent>> sent;
  for (int i = 0; i < 3000; ++i) {
    auto s = std::make_unique<Sent>();
    s->key = "key-" + std::to_string(i % 25);
    s->value = "value-" + std::to_string(i) + std::string(i % 40, 'x');
    Produce(*producer, "compacted", s.get());
    sent.push_back(std::move(s));
  }
  producer->flush(30000);
  std::map<int64_t, const Sent*> by_offset;
  std::map<std::string, int64_t> latest;
  for (const auto& s : sent) {
    ASSERT_TRUE(s->result.done);
    ASSERT_EQ(RdKafka::ERR_NO_ERROR, s->result.err);
    by_offset[s->result.offset] = s.get();
    latest[s->key] = std::max(latest[s->key], s->result.offset);
  }

  // The cleaner runs in the background: wait until most records are gone.
  std::vector<ConsumedMessage> got;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {
    std::this_thread::sleep_for(200ms);
    got = client_->ConsumePartitionToEnd("compacted", 0);
  } while (got.size() > 1000 && std::chrono::steady_clock::now() < deadline);
  ASSERT_LT(got.size(), 1000u) << "not compacted";
  int64_t prev = -1;
  std::map<std::string, int64_t> seen_latest;
  for (const ConsumedMessage& m : got) {
    ASSERT_GT(m.offset, prev);
    prev = m.offset;
    auto it = by_offset.find(m.offset);
    ASSERT_NE(it, by_offset.end());
    EXPECT_EQ(it->second->key, m.key);
    EXPECT_EQ(it->second->value, m.value);
    seen_latest[*m.key] = m.offset;
  }
  EXPECT_EQ(seen_latest, latest);

  // The compacted state survives a restart.
  ASSERT_EQ(broker_.Stop().value(), 0);
  StartBroker();
  std::vector<ConsumedMessage> again = client_->ConsumePartitionToEnd("compacted", 0);
  ASSERT_LE(again.size(), got.size());
  std::map<std::string, int64_t> after_restart;
  for (const ConsumedMessage& m : again) after_restart[*m.key] = m.offset;
  EXPECT_EQ(after_restart, latest);
}

TEST_F(CompactionTest, TombstonesAreRemovedAfterDeleteRetention) {
  auto configs = kCompactTopic;
  configs["delete.retention.ms"] = "0";
  ASSERT_EQ(0, client_->CreateTopic("tombstones", 1, 1, configs));
  auto producer = client_->MakeProducer(
      {{"acks", "all"}, {"compression.codec", "zstd"}, {"batch.num.messages", "10"}});
  std::vector<std::unique_ptr<Sent>> sent;
  for (int i = 0; i < 400; ++i) {
    auto s = std::make_unique<Sent>();
    s->key = i < 200 ? "doomed-" + std::to_string(i % 10) : "live-" + std::to_string(i % 10);
    s->value = "v" + std::to_string(i) + std::string(30, 'y');
    if (i >= 190 && i < 200) s->value.reset();  // a tombstone for each doomed key
    Produce(*producer, "tombstones", s.get());
    sent.push_back(std::move(s));
  }
  producer->flush(30000);
  for (const auto& s : sent) ASSERT_EQ(RdKafka::ERR_NO_ERROR, s->result.err);
  std::vector<ConsumedMessage> got;
  auto doomed_left = [&] {
    int n = 0;
    for (const ConsumedMessage& m : got) n += m.key->starts_with("doomed-");
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {
    std::this_thread::sleep_for(200ms);
    got = client_->ConsumePartitionToEnd("tombstones", 0);
  } while (doomed_left() > 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(doomed_left(), 0) << "values or tombstones of deleted keys remain";
  std::map<std::string, std::string> live;
  for (const ConsumedMessage& m : got) live[*m.key] = m.value.value_or("<null>");
  EXPECT_EQ(live.size(), 10u);
}

// kill -9 while a producer writes and the cleaner swaps segments; after the
// restart every key's latest acknowledged value (or a later one) is there.
TEST_F(CompactionTest, KillNineWhileCleaningKeepsEveryAcknowledgedLatestValue) {
  std::mt19937 rng(std::random_device{}());
  ASSERT_EQ(0, client_->CreateTopic("crash", 1, 1, kCompactTopic));
  std::map<std::string, std::pair<int64_t, std::string>> acked;  // key -> (offset, value)
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto producer = client_->MakeProducer({{"acks", "all"},
                                           {"linger.ms", "2"},
                                           {"batch.num.messages", "20"},
                                           {"message.timeout.ms", "1500"},
                                           {"retries", "0"}});
    std::vector<std::unique_ptr<Sent>> sent;
    std::atomic<bool> stop{false};
    std::atomic<bool> first_ack{false};
    const auto kill_after = std::chrono::milliseconds(300 + rng() % 1000);
    // The kill lands a random time after the first acknowledgement, so that
    // a slow start (sanitizers, a loaded machine) cannot leave nothing to check.
    std::thread killer([&] {
      const auto give_up = std::chrono::steady_clock::now() + 30s;
      while (!first_ack && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(5ms);
      }
      std::this_thread::sleep_for(kill_after);
      broker_.Kill();
      stop = true;
    });
    size_t reported = 0;  // sent[0, reported) have their delivery reports
    for (int i = 0; !stop && i < 1'000'000; ++i) {
      auto s = std::make_unique<Sent>();
      s->key = "key-" + std::to_string(i % 30);
      s->value = "r" + std::to_string(round) + "-" + std::to_string(i) + std::string(i % 50, 'z');
      Produce(*producer, "crash", s.get());
      sent.push_back(std::move(s));
      for (; reported < sent.size() && sent[reported]->result.done; ++reported) {
        if (sent[reported]->result.err == RdKafka::ERR_NO_ERROR) first_ack = true;
      }
      if (i % 50 == 0) std::this_thread::sleep_for(1ms);
    }
    killer.join();
    producer->flush(3000);  // what was in flight fails within message.timeout.ms
    producer.reset();
    for (const auto& s : sent) {
      if (!s->result.done || s->result.err != RdKafka::ERR_NO_ERROR) continue;
      auto& a = acked[s->key];
      if (s->result.offset >= a.first) a = {s->result.offset, *s->value};
    }
    ASSERT_FALSE(acked.empty());
    StartBroker();
    std::map<std::string, ConsumedMessage> got;
    int64_t prev = -1;
    for (const ConsumedMessage& m : client_->ConsumePartitionToEnd("crash", 0)) {
      ASSERT_GT(m.offset, prev) << "offsets out of order or duplicated";
      prev = m.offset;
      got[*m.key] = m;
    }
    for (const auto& [key, a] : acked) {
      ASSERT_TRUE(got.contains(key)) << key << " lost";
      ASSERT_GE(got[key].offset, a.first) << key << ": acknowledged value lost";
      if (got[key].offset == a.first) {
        EXPECT_EQ(got[key].value, a.second) << key;
      }
    }
    // Unacknowledged writes that did land are the latest now.
    for (const auto& [key, m] : got) acked[key] = {m.offset, *m.value};
  }
}

}  // namespace
}  // namespace sluice::testing
