// The topic's rules for produced records, on the real broker: a key on a
// compacted topic, CreateTime bounds (message.timestamp.before/after.max.ms,
// KIP-937). Through librdkafka where it can see them, and as raw Produce
// requests for the response fields librdkafka 2.0 does not expose
// (record_errors, error_message: KIP-467) and for timestamps at the int64
// extremes.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/admin_client.h"
#include "model/record.h"
#include "model/record_batch_builder.h"
#include "protocol/generated/produce.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

using model::AsBytes;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kHourMs = 3600000;

// A record for a raw batch: timestamp and key (nullopt: a null key).
struct RawRecord {
  int64_t timestamp;
  std::optional<std::string> key;
};

std::vector<uint8_t> Batch(const std::vector<RawRecord>& records) {
  model::RecordBatchBuilder b;
  for (const RawRecord& r : records) {
    std::optional<model::Bytes> key;
    if (r.key) key = AsBytes(*r.key);
    b.Add(r.timestamp, key, AsBytes("value"));
  }
  auto built = b.Build();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return built.ok() ? std::move(built).value() : std::vector<uint8_t>{};
}

class ProduceRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = broker_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    bootstrap_ = broker_.host() + ":" + std::to_string(broker_.port());
    client_ = std::make_unique<KafkaClient>(bootstrap_);
  }

  // One raw Produce (acks=all) of `batch` to partition 0 of `topic`.
  protocol::ProduceResponse::PartitionProduceResponse RawProduce(const std::string& topic,
                                                                 std::vector<uint8_t> batch,
                                                                 int16_t version = 9) {
    protocol::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 10000;
    auto& t = req.topic_data.emplace_back();
    t.name = topic;
    auto& p = t.partition_data.emplace_back();
    p.index = 0;
    p.records = protocol::Records::Owned(std::move(batch));
    auto resp = RoundTrip<protocol::ProduceResponse>(broker_.port(), req, version);
    EXPECT_EQ(1u, resp.responses.size());
    if (resp.responses.empty() || resp.responses[0].partition_responses.empty()) return {};
    return resp.responses[0].partition_responses[0];
  }

  // (low, high) watermarks of partition 0.
  std::pair<int64_t, int64_t> Watermarks(const std::string& topic) {
    auto producer = client_->MakeProducer();
    int64_t low = -1, high = -1;
    EXPECT_EQ(RdKafka::ERR_NO_ERROR,
              producer->query_watermark_offsets(topic, 0, &low, &high, 10000));
    return {low, high};
  }

  BrokerProcess broker_;
  std::string bootstrap_;
  std::unique_ptr<KafkaClient> client_;
};

// librdkafka batches the five messages (long linger, flushed together); the
// broker refuses the batch because of its one keyless record. librdkafka 2.0
// sends Produce v7, before record_errors (v8, KIP-467), and fails every
// message of the batch with the partition's INVALID_RECORD; from 2.1 it would
// report the others as _INVALID_DIFFERENT_RECORD (see the raw test below for
// the fields that carry that).
TEST_F(ProduceRulesTest, KeylessRecordInALibrdkafkaBatchToACompactedTopicFailsTheBatch) {
  ASSERT_EQ(0, client_->CreateTopic("keyed", 1, 1, {{"cleanup.policy", "compact"}}));
  auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "2000"}});
  // Connected and the partition's leader known before the first message, so
  // the five are queued together within the linger and sent as one batch.
  {
    std::string err;
    std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(producer.get(), "keyed", nullptr, err));
    RdKafka::Metadata* md = nullptr;
    ASSERT_EQ(RdKafka::ERR_NO_ERROR, producer->metadata(false, t.get(), &md, 10000));
    delete md;
  }
  std::vector<DeliveryResult> results(5);
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value = "v" + std::to_string(i);
    const bool keyless = i == 2;
    ASSERT_EQ(RdKafka::ERR_NO_ERROR,
              producer->produce("keyed", 0, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(value.data()), value.size(),
                                keyless ? nullptr : key.data(), keyless ? 0 : key.size(), 0,
                                &results[i]));
  }
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, producer->flush(30000));
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].done) << i;
    EXPECT_EQ(RdKafka::ERR_INVALID_RECORD, results[i].err)
        << "message " << i << ": " << RdKafka::err2str(results[i].err);
  }
  // Nothing of the refused batch is in the log.
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{0}), Watermarks("keyed"));
  // Keyed records alone go in.
  auto ok = ProduceSync(*producer, "keyed", 0, std::string("k"), std::string("v"));
  EXPECT_EQ(RdKafka::ERR_NO_ERROR, ok.err) << RdKafka::err2str(ok.err);
  EXPECT_EQ(0, ok.offset);
}

TEST_F(ProduceRulesTest, RecordErrorsNameEachKeylessRecordOfTheBatch) {
  ASSERT_EQ(0, client_->CreateTopic("keyed", 1, 1, {{"cleanup.policy", "compact,delete"}}));
  const int64_t now = NowMs();
  // An empty key is a key; only null keys are refused.
  auto batch = Batch({{now, "a"}, {now, std::nullopt}, {now, ""}, {now, std::nullopt}});
  for (int16_t version : {8, 9}) {
    auto r = RawProduce("keyed", batch, version);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_RECORD, r.error_code) << "v" << version;
    EXPECT_EQ(-1, r.base_offset);
    const std::string message =
        "Compacted topic cannot accept message without key in topic partition keyed-0";
    ASSERT_EQ(2u, r.record_errors.size());
    EXPECT_EQ(1, r.record_errors[0].batch_index);
    EXPECT_EQ(message, r.record_errors[0].batch_index_error_message);
    EXPECT_EQ(3, r.record_errors[1].batch_index);
    EXPECT_EQ(message, r.record_errors[1].batch_index_error_message);
    EXPECT_EQ("One or more records have been rejected due to 2 record errors in total, and only "
              "showing the first three errors at most: [RecordError(batchIndex=1, message='" +
                  message + "'), RecordError(batchIndex=3, message='" + message + "')]",
              r.error_message);
  }
  // Before v8 the partition error alone says it.
  auto v7 = RawProduce("keyed", batch, 7);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_RECORD, v7.error_code);
  EXPECT_TRUE(v7.record_errors.empty());
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{0}), Watermarks("keyed"));
}

TEST_F(ProduceRulesTest, TimestampBoundsRefuseTooOldAndTooNewThroughLibrdkafka) {
  ASSERT_EQ(0, client_->CreateTopic("timely", 1, 1,
                                    {{"message.timestamp.before.max.ms", std::to_string(kHourMs)},
                                     {"message.timestamp.after.max.ms", std::to_string(kHourMs)}}));
  auto producer = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  auto send = [&](int64_t timestamp) {
    DeliveryResult r;
    const std::string value = "v";
    EXPECT_EQ(RdKafka::ERR_NO_ERROR,
              producer->produce("timely", 0, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(value.data()), value.size(), "k", 1, timestamp,
                                &r));
    producer->flush(30000);
    EXPECT_TRUE(r.done);
    return r.err;
  };
  const int64_t now = NowMs();
  EXPECT_EQ(RdKafka::ERR_INVALID_TIMESTAMP, send(now - 2 * kHourMs));
  EXPECT_EQ(RdKafka::ERR_INVALID_TIMESTAMP, send(now + 2 * kHourMs));
  EXPECT_EQ(RdKafka::ERR_NO_ERROR, send(now - kHourMs / 2));
  EXPECT_EQ(RdKafka::ERR_NO_ERROR, send(now + kHourMs / 2));
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{2}), Watermarks("timely"));
}

// The client's timestamps at the int64 extremes: compared exactly, never
// overflowing (the broker runs under UBSan in the asan build), and -1 means
// "no timestamp", which no bound refuses.
TEST_F(ProduceRulesTest, ExtremeTimestampsAgainstFiniteBounds) {
  ASSERT_EQ(0, client_->CreateTopic("bounded", 1, 1,
                                    {{"message.timestamp.before.max.ms", std::to_string(kHourMs)},
                                     {"message.timestamp.after.max.ms", "0"}}));
  const int64_t now = NowMs();
  auto r = RawProduce("bounded", Batch({{now - 1000, "a"},
                                        {INT64_MAX, "b"},
                                        {-1, "c"},
                                        {INT64_MIN, "d"},
                                        {0, "e"},
                                        {now + kHourMs, "f"}}));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, r.error_code);
  EXPECT_EQ("One or more records have been rejected due to invalid timestamp", r.error_message);
  std::vector<int32_t> indexes;
  for (const auto& e : r.record_errors) indexes.push_back(e.batch_index);
  EXPECT_EQ((std::vector<int32_t>{1, 3, 4, 5}), indexes);
  ASSERT_FALSE(r.record_errors.empty());
  EXPECT_EQ(0u, r.record_errors[0].batch_index_error_message->find(
                    "Timestamp 9223372036854775807 of message with offset 1 is out of range."))
      << *r.record_errors[0].batch_index_error_message;
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{0}), Watermarks("bounded"));

  // The accepted ones, alone: within the bounds, or no timestamp at all.
  auto ok = RawProduce("bounded", Batch({{now - 1000, "a"}, {-1, "c"}}));
  EXPECT_EQ(0, ok.error_code) << ok.error_message.value_or("");
  EXPECT_TRUE(ok.record_errors.empty());
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{2}), Watermarks("bounded"));
}

TEST_F(ProduceRulesTest, ExtremeTimestampsWithTheDefaultUnboundedLimits) {
  ASSERT_EQ(0, client_->CreateTopic("open", 1));
  auto r = RawProduce("open", Batch({{INT64_MIN, "a"}, {INT64_MAX, "b"}, {-1, "c"}, {0, "d"}}));
  EXPECT_EQ(0, r.error_code) << r.error_message.value_or("");
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{4}), Watermarks("open"));
}

// Each KIP-937 key left unset takes its bound from the older
// message.timestamp.difference.max.ms, as in Kafka 3.6-3.9.
TEST_F(ProduceRulesTest, DifferenceMaxMsBoundsEitherSideLeftUnset) {
  ASSERT_EQ(0, client_->CreateTopic("diff", 1, 1,
                                    {{"message.timestamp.difference.max.ms", std::to_string(kHourMs)},
                                     {"message.timestamp.after.max.ms", std::to_string(3 * kHourMs)}}));
  const int64_t now = NowMs();
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP,
            RawProduce("diff", Batch({{now - 2 * kHourMs, "a"}})).error_code);
  EXPECT_EQ(0, RawProduce("diff", Batch({{now + 2 * kHourMs, "a"}})).error_code);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP,
            RawProduce("diff", Batch({{now + 4 * kHourMs, "a"}})).error_code);
}

// LogAppendTime topics take any CreateTime: the broker stamps its own.
TEST_F(ProduceRulesTest, LogAppendTimeTopicIgnoresTheBounds) {
  ASSERT_EQ(0, client_->CreateTopic("stamped", 1, 1,
                                    {{"message.timestamp.type", "LogAppendTime"},
                                     {"message.timestamp.before.max.ms", "0"},
                                     {"message.timestamp.after.max.ms", "0"}}));
  auto r = RawProduce("stamped", Batch({{INT64_MIN, "a"}, {INT64_MAX, "b"}}));
  EXPECT_EQ(0, r.error_code) << r.error_message.value_or("");
  EXPECT_GT(r.log_append_time_ms, 0);
}

TEST_F(ProduceRulesTest, TimestampBoundsAreDescribedAndAlterable) {
  ASSERT_EQ(0, client_->CreateTopic("tuned", 1));
  Admin admin(bootstrap_);
  auto described = admin.DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "tuned");
  ASSERT_EQ(0, described.error) << described.message;
  for (const char* key : {"message.timestamp.before.max.ms", "message.timestamp.after.max.ms"}) {
    ASSERT_TRUE(described.configs.contains(key)) << key;
    EXPECT_EQ("9223372036854775807", described.configs[key].value) << key;
    EXPECT_EQ(RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, described.configs[key].source) << key;
    ASSERT_FALSE(described.configs[key].synonyms.empty());
    EXPECT_EQ(std::string("log.") + key, described.configs[key].synonyms.back());
  }
  const int64_t now = NowMs();
  EXPECT_EQ(0, RawProduce("tuned", Batch({{now + 2 * kHourMs, "a"}})).error_code);
  auto altered = admin.AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "tuned",
                                    {{"message.timestamp.after.max.ms", std::to_string(kHourMs)}});
  ASSERT_EQ(0, altered.error) << altered.message;
  EXPECT_EQ(std::to_string(kHourMs),
            admin.DescribeConfigs(RD_KAFKA_RESOURCE_TOPIC, "tuned")
                .configs["message.timestamp.after.max.ms"]
                .value);
  auto refused = RawProduce("tuned", Batch({{now + 2 * kHourMs, "a"}}));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, refused.error_code);
  ASSERT_EQ(1u, refused.record_errors.size());
  EXPECT_EQ(0, refused.record_errors[0].batch_index);
  auto negative = admin.AlterConfigs(RD_KAFKA_RESOURCE_TOPIC, "tuned",
                                     {{"message.timestamp.before.max.ms", "-1"}});
  EXPECT_EQ(RD_KAFKA_RESP_ERR_INVALID_CONFIG, negative.error);
}

}  // namespace
}  // namespace sluice::testing
