// Retention through the real broker and librdkafka: with a short
// log.retention.check.interval.ms the broker deletes closed segments past
// retention.ms or beyond retention.bytes by itself, ListOffsets earliest
// (the low watermark) moves up to the new log start, and a consumer reading
// from the beginning starts there. Ages come from the records' timestamps
// (produced in the past), never from waiting, so no outcome depends on how
// fast the machine is.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_process.h"
#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }

  void StartBroker(std::vector<std::string> overrides = {}) {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    options.overrides = {"log.retention.check.interval.ms=100"};
    options.overrides.insert(options.overrides.end(), overrides.begin(), overrides.end());
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
    producer_ = client_->MakeProducer({{"acks", "all"}});
  }

  // The same data directory under a broker started with `overrides`.
  void RestartBroker(std::vector<std::string> overrides) {
    producer_.reset();
    ASSERT_EQ(broker_.Stop().value(), 0) << broker_.output();
    StartBroker(std::move(overrides));
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void TearDown() override {
    producer_.reset();
    if (broker_.running()) {
      EXPECT_EQ(broker_.Stop().value(), 0) << broker_.output();
    }
  }

  // ListOffsets earliest and latest of partition 0.
  std::pair<int64_t, int64_t> Watermarks(const std::string& topic) {
    int64_t low = -1, high = -1;
    RdKafka::ErrorCode err = producer_->query_watermark_offsets(topic, 0, &low, &high, 10000);
    EXPECT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
    return {low, high};
  }

  // Base offsets of the segment files of partition 0, and their total size.
  std::vector<int64_t> SegmentBases(const std::string& topic, uint64_t* total_bytes = nullptr) {
    std::vector<int64_t> bases;
    uint64_t total = 0;
    for (const auto& e : fs::directory_iterator(data_.path() / (topic + "-0"))) {
      const std::string name = e.path().filename().string();
      if (name.size() != 24 || !name.ends_with(".log")) continue;
      bases.push_back(std::stoll(name.substr(0, 20)));
      total += e.file_size();
    }
    std::sort(bases.begin(), bases.end());
    if (total_bytes != nullptr) *total_bytes = total;
    return bases;
  }

  // Produces `n` messages one at a time (a batch each), all stamped with
  // `timestamp` (default: now), so that segment.ms, which compares record
  // timestamps, rolls only between rounds. Returns their offsets.
  std::vector<int64_t> ProduceRound(const std::string& topic, int n, const std::string& tag,
                                    size_t value_bytes = 20, int64_t timestamp = NowMs()) {
    std::vector<int64_t> offsets;
    for (int i = 0; i < n; ++i) {
      std::string value = tag + "-" + std::to_string(i);
      value.resize(std::max(value.size(), value_bytes), '.');
      DeliveryResult r;
      RdKafka::ErrorCode err =
          producer_->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                             nullptr, 0, timestamp, nullptr, &r);
      EXPECT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (err == RdKafka::ERR_NO_ERROR && !r.done && std::chrono::steady_clock::now() < deadline) {
        producer_->poll(50);
      }
      EXPECT_EQ(r.err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(r.err);
      offsets.push_back(r.offset);
    }
    return offsets;
  }

  // Waits until ListOffsets earliest reaches `at_least`; returns the last seen.
  int64_t WaitForLogStart(const std::string& topic, int64_t at_least,
                          std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int64_t low = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      low = Watermarks(topic).first;
      if (low >= at_least) break;
      std::this_thread::sleep_for(100ms);
    }
    return low;
  }

  TempDir data_;
  BrokerProcess broker_;
  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

TEST_F(RetentionTest, RetentionMsDeletesClosedSegmentsPastItAndKeepsYoungerOnes) {
  // Four rounds stamped 10 h, 5 h and 30 min ago and now: segment.ms (20
  // min, compared between record timestamps; Kafka rolls only on append)
  // gives each its own segment. The broker default retention (7 days)
  // deletes none of them.
  constexpr int64_t kMinute = 60'000;
  ASSERT_EQ(0, client_->CreateTopic("aged", 1, 1, {{"segment.ms", std::to_string(20 * kMinute)}}));
  const int64_t now = NowMs();
  std::vector<int64_t> first = ProduceRound("aged", 10, "first", 20, now - 600 * kMinute);
  ProduceRound("aged", 10, "second", 20, now - 300 * kMinute);
  ProduceRound("aged", 10, "third", 20, now - 30 * kMinute);
  std::vector<int64_t> fourth = ProduceRound("aged", 10, "fourth", 20, now);
  ASSERT_EQ(first.front(), 0);
  ASSERT_EQ(fourth.back(), 39);
  EXPECT_EQ(SegmentBases("aged"), (std::vector<int64_t>{0, 10, 20, 30}));
  EXPECT_EQ(Watermarks("aged").first, 0) << "nothing is older than the default retention";

  // With log.retention.ms one hour, the first retention round sees all four
  // segments: the two older than an hour go, the 30-minute one (closed) and
  // the active one stay.
  RestartBroker({"log.retention.ms=" + std::to_string(60 * kMinute)});
  EXPECT_TRUE(broker_.WaitForOutput("retention: aged-0 deleted 2 segment(s)", 30s))
      << broker_.output();
  EXPECT_EQ(SegmentBases("aged"), (std::vector<int64_t>{20, 30}));
  EXPECT_EQ(Watermarks("aged"), std::make_pair(int64_t{20}, int64_t{40}));

  std::vector<ConsumedMessage> read = client_->ConsumePartitionToEnd("aged", 0);
  ASSERT_EQ(read.size(), 20u);
  EXPECT_EQ(read.front().offset, 20);
  EXPECT_EQ(read.front().value.value_or("").substr(0, 7), "third-0");
  // A consumer asking for offset 0 is out of range and resets to the new start.
  std::vector<ConsumedMessage> reset =
      client_->ConsumeAll("aged", 1, 10, 30s, {{"auto.offset.reset", "earliest"}});
  ASSERT_FALSE(reset.empty());
  EXPECT_EQ(reset.front().offset, 20);

  // The log keeps working: new data lands after the retained tail.
  std::vector<int64_t> more = ProduceRound("aged", 1, "more");
  EXPECT_EQ(more.front(), 40);
}

TEST_F(RetentionTest, RetentionBytesKeepsTheNewestSegmentsWithinTheLimit) {
  constexpr uint64_t kSegmentBytes = 2048;
  constexpr uint64_t kRetentionBytes = 6000;
  ASSERT_EQ(0, client_->CreateTopic("sized", 1, 1,
                                    {{"segment.bytes", std::to_string(kSegmentBytes)},
                                     {"retention.bytes", std::to_string(kRetentionBytes)},
                                     {"retention.ms", "-1"}}));
  ProduceRound("sized", 80, "v", 200);
  // Kafka's rule: the oldest segment goes while what remains is still at
  // least retention.bytes, so what is left is below the limit plus a segment.
  uint64_t total = 0;
  std::vector<int64_t> bases;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (bases = SegmentBases("sized", &total);
       total >= kRetentionBytes + kSegmentBytes && std::chrono::steady_clock::now() < deadline;
       bases = SegmentBases("sized", &total)) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(total, kRetentionBytes + kSegmentBytes) << broker_.output();
  EXPECT_GE(total, kRetentionBytes);
  ASSERT_GE(bases.size(), 2u);
  ASSERT_GT(bases.front(), 0);
  auto [start, end] = Watermarks("sized");
  EXPECT_EQ(start, bases.front());
  EXPECT_EQ(end, 80);

  std::vector<ConsumedMessage> read = client_->ConsumePartitionToEnd("sized", 0);
  ASSERT_EQ(read.size(), static_cast<size_t>(end - start));
  EXPECT_EQ(read.front().offset, start);
  EXPECT_EQ(read.front().value.value_or("").substr(0, 2 + std::to_string(start).size()),
            "v-" + std::to_string(start));
}

TEST_F(RetentionTest, CompactOnlyTopicsAreNotTrimmedByRetention) {
  ASSERT_EQ(0, client_->CreateTopic("kept", 1, 1,
                                    {{"cleanup.policy", "compact"},
                                     {"segment.bytes", "1024"},
                                     {"retention.bytes", "1"},
                                     {"retention.ms", "1"}}));
  for (int i = 0; i < 30; ++i) {
    DeliveryResult r = ProduceSync(*producer_, "kept", 0, "key-" + std::to_string(i),
                                   std::string(100, 'x'));
    ASSERT_EQ(r.err, RdKafka::ERR_NO_ERROR);
  }
  ASSERT_GT(SegmentBases("kept").size(), 2u);
  // A delete topic beside it shows when retention rounds have run: once it
  // has lost segments in two different rounds, the first of them went over
  // every log, "kept" included, from start to end.
  ASSERT_EQ(0, client_->CreateTopic("witness", 1, 1,
                                    {{"segment.bytes", "1024"}, {"retention.bytes", "1"}}));
  for (int round = 0; round < 2; ++round) {
    std::vector<int64_t> offsets = ProduceRound("witness", 12, "w", 200);
    // All but the active segment go: the log start reaches the last roll.
    EXPECT_GT(WaitForLogStart("witness", offsets.back() - 3), offsets.front()) << round;
  }
  EXPECT_EQ(Watermarks("kept").first, 0);
  EXPECT_EQ(SegmentBases("kept").front(), 0);
}

}  // namespace
}  // namespace sluice::testing
