// Retention through the real broker and librdkafka: with a short
// log.retention.check.interval.ms the broker deletes closed segments past
// retention.ms or beyond retention.bytes by itself, ListOffsets earliest
// (the low watermark) moves up to the new log start, and a consumer reading
// from the beginning starts there.
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
  void SetUp() override {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    options.overrides = {"log.retention.check.interval.ms=100"};
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
    producer_ = client_->MakeProducer({{"acks", "all"}});
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

  // Produces `n` messages one at a time (a batch each), all stamped with the
  // time the round starts, so that a slow first delivery (metadata) cannot
  // make segment.ms roll inside a round. Returns their offsets.
  std::vector<int64_t> ProduceRound(const std::string& topic, int n, const std::string& tag,
                                    size_t value_bytes = 20) {
    const int64_t timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
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

TEST_F(RetentionTest, RetentionMsDeletesClosedSegmentsAndMovesTheLogStart) {
  // segment.ms rolls at the first append of each round (Kafka rolls only on
  // append); retention.ms expires the first two rounds, never the active one.
  ASSERT_EQ(0, client_->CreateTopic("aged", 1, 1,
                                    {{"segment.ms", "1000"}, {"retention.ms", "4000"}}));
  const auto started = std::chrono::steady_clock::now();
  std::vector<int64_t> first = ProduceRound("aged", 10, "first");
  std::this_thread::sleep_for(1200ms);
  std::vector<int64_t> second = ProduceRound("aged", 10, "second");
  std::this_thread::sleep_for(1200ms);
  std::vector<int64_t> third = ProduceRound("aged", 10, "third");
  ASSERT_EQ(first.front(), 0);
  ASSERT_EQ(third.back(), 29);
  EXPECT_EQ(SegmentBases("aged"), (std::vector<int64_t>{0, 10, 20}));
  if (std::chrono::steady_clock::now() - started < 3500ms) {
    EXPECT_EQ(Watermarks("aged").first, 0) << "nothing is older than retention.ms yet";
  }

  EXPECT_EQ(WaitForLogStart("aged", 20), 20) << broker_.output();
  EXPECT_EQ(SegmentBases("aged"), (std::vector<int64_t>{20}));
  EXPECT_EQ(Watermarks("aged"), std::make_pair(int64_t{20}, int64_t{30}));
  EXPECT_TRUE(broker_.WaitForOutput("retention: aged-0 deleted", 5s)) << broker_.output();

  std::vector<ConsumedMessage> read = client_->ConsumePartitionToEnd("aged", 0);
  ASSERT_EQ(read.size(), 10u);
  EXPECT_EQ(read.front().offset, 20);
  EXPECT_EQ(read.front().value.value_or("").substr(0, 7), "third-0");
  // A consumer asking for offset 0 is out of range and resets to the new start.
  std::vector<ConsumedMessage> reset =
      client_->ConsumeAll("aged", 1, 10, 30s, {{"auto.offset.reset", "earliest"}});
  ASSERT_FALSE(reset.empty());
  EXPECT_EQ(reset.front().offset, 20);

  // The log keeps working: new data lands after the retained tail.
  std::vector<int64_t> more = ProduceRound("aged", 1, "more");
  EXPECT_EQ(more.front(), 30);
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
  do {
    std::this_thread::sleep_for(100ms);
    bases = SegmentBases("sized", &total);
  } while (total >= kRetentionBytes + kSegmentBytes && std::chrono::steady_clock::now() < deadline);
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
  std::this_thread::sleep_for(1s);  // Ten retention rounds.
  EXPECT_EQ(Watermarks("kept").first, 0);
}

}  // namespace
}  // namespace sluice::testing
