// ListOffsets by timestamp through the real broker: librdkafka's
// offsetsForTimes gets the offset of the first *record* whose timestamp
// reaches the target, also inside one large compressed batch (the broker
// decompresses it), in every codec. librdkafka 2.0 itself only compresses
// with zstd against a broker without Produce v0 (it downgrades gzip, snappy
// and lz4 to none), so batches of those codecs are sent as raw Produce
// requests; a librdkafka-produced zstd batch is covered too. ListOffsets -3
// (KIP-734, v7), which librdkafka 2.0 cannot send, goes raw as well.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/endian.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_header.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/produce.h"
#include "protocol/header.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using model::Compression;

constexpr int kRecords = 2000;
constexpr int64_t kStepMs = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One blocking request/response exchange on a fresh connection; the
// response body (after its header), or empty on any failure.
template <typename Request>
std::vector<uint8_t> Exchange(uint16_t port, const Request& body, int16_t version) {
  protocol::RequestHeader h;
  h.request_api_key = Request::kApiKey;
  h.request_api_version = version;
  h.correlation_id = 7;
  h.client_id = "list-offsets-test";
  std::vector<uint8_t> payload = protocol::EncodeRequest(h, body);
  std::vector<uint8_t> frame(4);
  StoreBigEndian(frame.data(), static_cast<int32_t>(payload.size()));
  frame.insert(frame.end(), payload.begin(), payload.end());

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<uint8_t> response;
  auto io = [&](bool send, uint8_t* p, size_t n) {
    for (size_t done = 0; done < n;) {
      const ssize_t k = send ? ::send(fd, p + done, n - done, MSG_NOSIGNAL)
                             : ::recv(fd, p + done, n - done, 0);
      if (k <= 0) return false;
      done += static_cast<size_t>(k);
    }
    return true;
  };
  uint8_t size[4];
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      io(true, frame.data(), frame.size()) && io(false, size, 4)) {
    response.resize(static_cast<size_t>(LoadBigEndian<int32_t>(size)));
    if (!io(false, response.data(), response.size())) response.clear();
  }
  ::close(fd);
  if (response.empty()) return {};
  protocol::Reader in(response);
  protocol::ResponseHeader rh;
  if (!rh.Decode(in, protocol::ResponseHeaderVersion(Request::kApiKey, version)).ok()) return {};
  return std::vector<uint8_t>(response.end() - static_cast<ptrdiff_t>(in.remaining()),
                              response.end());
}

class ListOffsetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
  }
  void TearDown() override {
    if (broker_.running()) {
      EXPECT_EQ(broker_.Stop().value(), 0) << broker_.output();
    }
  }

  // Produces `batch` to partition 0 with acks=all; the partition's error code.
  int ProduceRaw(const std::string& topic, const std::vector<uint8_t>& batch) {
    protocol::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 30000;
    auto& t = req.topic_data.emplace_back();
    t.name = topic;
    auto& p = t.partition_data.emplace_back();
    p.index = 0;
    p.records = protocol::Records::View(batch);
    std::vector<uint8_t> body = Exchange(broker_.port(), req, 7);
    protocol::Reader in(body);
    protocol::ProduceResponse resp;
    if (body.empty() || !resp.Decode(in, 7).ok()) return -1000;
    return resp.responses.at(0).partition_responses.at(0).error_code;
  }

  // Raw ListOffsets v7 for one timestamp: (error, offset, timestamp).
  std::tuple<int, int64_t, int64_t> ListOffsetsRaw(const std::string& topic, int64_t ts) {
    protocol::ListOffsetsRequest req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = 0;
    p.timestamp = ts;
    std::vector<uint8_t> body = Exchange(broker_.port(), req, 7);
    protocol::Reader in(body);
    protocol::ListOffsetsResponse resp;
    if (body.empty() || !resp.Decode(in, 7).ok()) return {-1000, -1, -1};
    const auto& r = resp.topics.at(0).partitions.at(0);
    return {r.error_code, r.offset, r.timestamp};
  }

  // The header of the first batch in partition 0's first segment.
  model::RecordBatchHeader FirstBatch(const std::string& topic) {
    std::ifstream in(data_.path() / (topic + "-0") / "00000000000000000000.log", std::ios::binary);
    std::vector<uint8_t> head(model::batch_layout::kHeaderSize);
    in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    Result<model::RecordBatchHeader> h = model::ParseRecordBatchHeader(head);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : model::RecordBatchHeader{};
  }

  // offsetsForTimes for one timestamp on partition 0.
  static int64_t OffsetForTime(RdKafka::Handle& handle, const std::string& topic, int64_t ts) {
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0, ts));
    std::vector<RdKafka::TopicPartition*> tps{tp.get()};
    RdKafka::ErrorCode err = handle.offsetsForTimes(tps, 10000);
    EXPECT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
    EXPECT_EQ(tp->err(), RdKafka::ERR_NO_ERROR) << RdKafka::err2str(tp->err());
    return tp->offset();
  }

  // What every codec must answer: records t0 + i s, one batch of kRecords.
  static void ExpectRecordLevelAnswers(RdKafka::Handle& handle, const std::string& topic,
                                       int64_t t0) {
    // The reported case: 5.5 s after the first record is record 6.
    EXPECT_EQ(OffsetForTime(handle, topic, t0 + 5500), 6);
    for (int i : {0, 1, 777, 1500, kRecords - 1}) {
      EXPECT_EQ(OffsetForTime(handle, topic, t0 + i * kStepMs), i);
      EXPECT_EQ(OffsetForTime(handle, topic, t0 + i * kStepMs - 1), i);
    }
    EXPECT_EQ(OffsetForTime(handle, topic, t0 - 1'000'000), 0);
    // Past the last record: no offset (librdkafka reports -1, "end").
    EXPECT_EQ(OffsetForTime(handle, topic, t0 + kRecords * kStepMs), -1);
  }

  TempDir data_;
  BrokerProcess broker_;
  std::unique_ptr<KafkaClient> client_;
};

TEST_F(ListOffsetsTest, OffsetsForTimesFindsTheRecordInsideOneLargeBatchOfEveryCodec) {
  const int64_t t0 = NowMs() - kRecords * kStepMs;
  auto handle = client_->MakeProducer();
  for (Compression codec : {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                            Compression::kLz4, Compression::kZstd}) {
    const std::string name(compression::CodecName(codec));
    SCOPED_TRACE(name);
    const std::string topic = "times-" + name;
    ASSERT_EQ(client_->CreateTopic(topic, 1), 0);
    model::RecordBatchBuilder builder({.compression = codec});
    for (int i = 0; i < kRecords; ++i) {
      const std::string value = "record-" + std::to_string(i) + std::string(60, 'x');
      builder.Add(t0 + i * kStepMs, std::nullopt, model::AsBytes(value));
    }
    ASSERT_EQ(ProduceRaw(topic, builder.Build().value()), 0);
    const model::RecordBatchHeader stored = FirstBatch(topic);
    ASSERT_EQ(stored.record_count, kRecords);
    ASSERT_EQ(stored.compression(), codec);
    ExpectRecordLevelAnswers(*handle, topic, t0);
  }
}

TEST_F(ListOffsetsTest, OffsetsForTimesFindsTheRecordInsideALibrdkafkaZstdBatch) {
  const int64_t t0 = NowMs() - kRecords * kStepMs;
  const std::string topic = "times-librdkafka";
  ASSERT_EQ(client_->CreateTopic(topic, 1), 0);
  auto producer = client_->MakeProducer(
      {{"acks", "all"}, {"compression.codec", "zstd"}, {"linger.ms", "2000"}});
  // Connected and the partition's leader known first, so that no record
  // leaves before the last one is queued: one batch.
  {
    std::string err;
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(producer.get(), topic, nullptr, err));
    RdKafka::Metadata* metadata = nullptr;
    ASSERT_EQ(producer->metadata(false, handle.get(), &metadata, 10000), RdKafka::ERR_NO_ERROR);
    delete metadata;
  }
  for (int i = 0; i < kRecords; ++i) {
    std::string value = "record-" + std::to_string(i) + std::string(60, 'x');
    RdKafka::ErrorCode err =
        producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                          nullptr, 0, t0 + i * kStepMs, nullptr, nullptr);
    ASSERT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
  }
  ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
  const model::RecordBatchHeader stored = FirstBatch(topic);
  ASSERT_EQ(stored.record_count, kRecords) << "the records did not arrive as one batch";
  ASSERT_EQ(stored.compression(), Compression::kZstd);
  ExpectRecordLevelAnswers(*producer, topic, t0);
}

// KIP-734: -3 answers the offset and timestamp of the record carrying the
// largest timestamp, here in the middle of a compressed batch whose records
// are out of order; a record-level -1/-2 answer is unaffected.
TEST_F(ListOffsetsTest, MaxTimestampSpecAnswersTheRecordCarryingTheLargestTimestamp) {
  const std::string topic = "max-timestamp";
  ASSERT_EQ(client_->CreateTopic(topic, 1), 0);
  EXPECT_EQ(ListOffsetsRaw(topic, -3), std::make_tuple(0, int64_t{-1}, int64_t{-1}));  // empty
  const int64_t t0 = NowMs() - 60'000;
  model::RecordBatchBuilder first({.compression = Compression::kLz4});
  for (int64_t ts : {t0, t0 + 10, t0 + 50'000, t0 + 20, t0 + 50'000, t0 + 30}) {
    first.Add(ts, std::nullopt, model::AsBytes("v"));
  }
  ASSERT_EQ(ProduceRaw(topic, first.Build().value()), 0);  // offsets 0..5
  model::RecordBatchBuilder second({.compression = Compression::kGzip});
  second.Add(t0 + 40, std::nullopt, model::AsBytes("w"));
  ASSERT_EQ(ProduceRaw(topic, second.Build().value()), 0);  // offset 6
  EXPECT_EQ(ListOffsetsRaw(topic, -3), std::make_tuple(0, int64_t{2}, t0 + 50'000));
  EXPECT_EQ(ListOffsetsRaw(topic, t0 + 15), std::make_tuple(0, int64_t{2}, t0 + 50'000));
  EXPECT_EQ(ListOffsetsRaw(topic, -1), std::make_tuple(0, int64_t{7}, int64_t{-1}));
  EXPECT_EQ(ListOffsetsRaw(topic, -2), std::make_tuple(0, int64_t{0}, int64_t{-1}));
}

// The broker, not the producer, decides a batch's max timestamp: a batch
// whose header under-states it (a buggy or hostile client; the CRC is
// correct) is still found by a lookup of its newest record, and -3 names
// that record.
TEST_F(ListOffsetsTest, ABatchHeaderUnderstatingItsMaxTimestampDoesNotHideItsRecords) {
  const std::string topic = "lying-header";
  ASSERT_EQ(client_->CreateTopic(topic, 1), 0);
  const int64_t t0 = NowMs() - 60'000;
  model::RecordBatchBuilder builder;
  for (int64_t ts : {t0, t0 + 10, t0 + 20}) builder.Add(ts, std::nullopt, model::AsBytes("v"));
  std::vector<uint8_t> batch = builder.Build().value();
  StoreBigEndian<int64_t>(batch.data() + model::batch_layout::kMaxTimestamp, t0);
  StoreBigEndian(batch.data() + model::batch_layout::kCrc, model::ComputeBatchCrc(batch));
  ASSERT_EQ(ProduceRaw(topic, batch), 0);
  EXPECT_EQ(ListOffsetsRaw(topic, t0 + 15), std::make_tuple(0, int64_t{2}, t0 + 20));
  EXPECT_EQ(ListOffsetsRaw(topic, -3), std::make_tuple(0, int64_t{2}, t0 + 20));
}

}  // namespace
}  // namespace sluice::testing
