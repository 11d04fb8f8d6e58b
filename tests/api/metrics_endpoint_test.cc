// The real sluice-broker exports Prometheus metrics: requests by API,
// latency, bytes, connections, errors and per-partition gauges, read over
// HTTP from /metrics while librdkafka drives the broker, and scraped by a
// real Prometheus server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <gtest/gtest.h>

#include "support/broker_process.h"
#include "support/kafka_client.h"
#include "support/metrics_scrape.h"
#include "support/prometheus_process.h"
#include "support/temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kMessages = 25;
constexpr char kTopic[] = "t";

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerProcessOptions options;
    options.overrides = {"sluice.metrics.listener=127.0.0.1:0"};
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    // Logged right before the ready line, so it is there already.
    ASSERT_TRUE(broker_.WaitForOutput("metrics on http://", 5s)) << broker_.output();
    auto endpoint = FindMetricsEndpoint(broker_.output());
    ASSERT_TRUE(endpoint.has_value()) << broker_.output();
    metrics_host_ = endpoint->host;
    metrics_port_ = endpoint->port;
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
  }

  std::string MetricsTarget() const {
    return metrics_host_ + ":" + std::to_string(metrics_port_);
  }

  // GET /metrics, parsed; the raw text in *text.
  std::map<std::string, double> Scrape(std::string* text = nullptr) {
    auto body = FetchMetrics({metrics_host_, metrics_port_});
    EXPECT_TRUE(body.has_value()) << "GET /metrics failed";
    if (!body) return {};
    if (text != nullptr) *text = *body;
    return ParseExposition(*body);
  }

  // Creates kTopic and produces kMessages to its partition 0.
  void CreateAndProduce() {
    ASSERT_EQ(client_->CreateTopic(kTopic, 1), 0);
    producer_ = client_->MakeProducer();
    for (int i = 0; i < kMessages; ++i) {
      DeliveryResult r =
          ProduceSync(*producer_, kTopic, 0, "k" + std::to_string(i), "value-" + std::to_string(i));
      ASSERT_EQ(r.err, RdKafka::ERR_NO_ERROR) << i;
      ASSERT_EQ(r.offset, i);
    }
  }

  // Sends one request frame with api key 1000 (served by nobody) on a raw
  // connection; the broker closes it and counts an error.
  void SendUnknownApiRequest() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(broker_.port());
    ASSERT_EQ(inet_pton(AF_INET, broker_.host().c_str(), &addr.sin_addr), 1) << broker_.host();
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    // size, api key 1000, version 0, correlation id 7, null client id.
    const uint8_t frame[] = {0, 0, 0, 10, 0x03, 0xE8, 0, 0, 0, 0, 0, 7, 0xFF, 0xFF};
    ASSERT_EQ(write(fd, frame, sizeof(frame)), static_cast<ssize_t>(sizeof(frame)));
    uint8_t buf[64];
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 0) << "the broker should close the connection";
    close(fd);
  }

  BrokerProcess broker_;
  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::string metrics_host_;
  uint16_t metrics_port_ = 0;
};

TEST_F(MetricsTest, ReadyLineStillNamesTheKafkaListener) {
  const std::string out = broker_.output();
  EXPECT_NE(out.find("sluice-broker ready: listening on PLAINTEXT://127.0.0.1:" +
                     std::to_string(broker_.port())),
            std::string::npos)
      << out;
  EXPECT_LT(out.find("metrics on http://127.0.0.1:"), out.find(" ready: ")) << out;
  httplib::Client http(metrics_host_, metrics_port_);
  auto res = http.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(MetricsTest, BrokerExportsRequestAndPartitionMetrics) {
  ASSERT_NO_FATAL_FAILURE(CreateAndProduce());
  ASSERT_NO_FATAL_FAILURE(SendUnknownApiRequest());

  std::string text;
  auto m = Scrape(&text);
  ASSERT_FALSE(m.empty());
  const double produce = m[R"(sluice_requests_total{api="Produce"})"];
  EXPECT_GE(produce, 1) << text;
  EXPECT_GE(m[R"(sluice_requests_total{api="ApiVersions"})"], 1) << text;
  EXPECT_GE(m[R"(sluice_requests_total{api="Metadata"})"], 1) << text;
  EXPECT_GE(m[R"(sluice_requests_total{api="CreateTopics"})"], 1) << text;
  // Every answered request is timed once: a produce is answered before its
  // delivery report arrives, and no produce is in flight now.
  EXPECT_EQ(m[R"(sluice_request_latency_seconds_count{api="Produce"})"], produce) << text;
  EXPECT_GT(m[R"(sluice_request_latency_seconds_sum{api="Produce"})"], 0) << text;
  EXPECT_EQ(m[R"(sluice_request_latency_seconds_bucket{api="Produce",le="+Inf"})"], produce)
      << text;
  EXPECT_EQ(m[R"(sluice_partition_log_end_offset{topic="t",partition="0"})"], kMessages) << text;
  EXPECT_GT(m[R"(sluice_partition_size_bytes{topic="t",partition="0"})"], 0) << text;
  EXPECT_GT(m["sluice_bytes_in_total"], 0) << text;
  EXPECT_GT(m["sluice_bytes_out_total"], 0) << text;
  EXPECT_TRUE(m.contains("sluice_connections")) << text;
  EXPECT_GE(m["sluice_connections"], 1) << "the producer is connected\n" << text;
  EXPECT_GE(m[R"(sluice_request_errors_total{api="unknown",error="INVALID_REQUEST"})"], 1)
      << text;
  EXPECT_GE(m[R"(sluice_requests_total{api="unknown"})"], 1) << text;

  // More produces move the counters and the gauge.
  DeliveryResult r = ProduceSync(*producer_, kTopic, 0, std::nullopt, "one more");
  ASSERT_EQ(r.err, RdKafka::ERR_NO_ERROR);
  auto after = Scrape(&text);
  EXPECT_GT(after[R"(sluice_requests_total{api="Produce"})"], produce) << text;
  EXPECT_EQ(after[R"(sluice_partition_log_end_offset{topic="t",partition="0"})"], kMessages + 1)
      << text;

  // Deleting the topic removes its partition series.
  producer_.reset();
  ASSERT_EQ(client_->DeleteTopic(kTopic), 0);
  Scrape(&text);
  EXPECT_EQ(text.find(R"(topic="t")"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE sluice_partition_log_end_offset gauge"), std::string::npos) << text;
}

TEST_F(MetricsTest, ConnectionsGaugeFollowsClients) {
  const double before = Scrape()["sluice_connections"];
  ASSERT_NO_FATAL_FAILURE(CreateAndProduce());
  EXPECT_GE(Scrape()["sluice_connections"], before + 1);
  producer_.reset();
  client_.reset();
  // Closing is noticed by the broker asynchronously.
  double now = 0;
  for (int i = 0; i < 100; ++i) {
    now = Scrape()["sluice_connections"];
    if (now <= before) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_LE(now, before);
  EXPECT_GE(now, 0);
}

TEST_F(MetricsTest, AdminErrorsAreCountedPerApiAndCode) {
  ASSERT_EQ(client_->CreateTopic("twice", 1), 0);
  EXPECT_NE(client_->CreateTopic("twice", 1), 0);  // TOPIC_ALREADY_EXISTS
  EXPECT_NE(client_->DeleteTopic("never-created"), 0);
  auto m = Scrape();
  EXPECT_EQ(m[R"(sluice_request_errors_total{api="CreateTopics",error="TOPIC_ALREADY_EXISTS"})"], 1);
  EXPECT_EQ(
      m[R"(sluice_request_errors_total{api="DeleteTopics",error="UNKNOWN_TOPIC_OR_PARTITION"})"], 1);
}

TEST_F(MetricsTest, ConsumerGroupLagFollowsCommits) {
  CreateAndProduce();
  // A consumer that assigns itself partitions commits for its group.
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  ASSERT_EQ(conf->set("bootstrap.servers", client_->bootstrap(), err), RdKafka::Conf::CONF_OK);
  ASSERT_EQ(conf->set("group.id", "lagging", err), RdKafka::Conf::CONF_OK);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  ASSERT_TRUE(consumer) << err;
  auto commit = [&](int64_t offset) {
    std::vector<RdKafka::TopicPartition*> list = {RdKafka::TopicPartition::create(kTopic, 0, offset)};
    RdKafka::ErrorCode e = consumer->commitSync(list);
    RdKafka::TopicPartition::destroy(list);
    return e;
  };
  const std::string lag = "sluice_consumer_group_lag{group=\"lagging\",topic=\"t\",partition=\"0\"}";
  const std::string committed =
      "sluice_consumer_group_committed_offset{group=\"lagging\",topic=\"t\",partition=\"0\"}";
  ASSERT_EQ(commit(10), RdKafka::ERR_NO_ERROR);
  auto m = Scrape();
  EXPECT_EQ(m[committed], 10);
  EXPECT_EQ(m[lag], kMessages - 10);
  ASSERT_EQ(commit(kMessages), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(Scrape()[lag], 0);
  // New messages show up as lag without another commit.
  ASSERT_EQ(ProduceSync(*producer_, kTopic, 0, std::nullopt, "one more").err, RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(Scrape()[lag], 1);
  consumer->close();
}

TEST_F(MetricsTest, RealPrometheusScrapesTheBroker) {
  if (!PrometheusProcess::Installed()) {
    FAIL() << PrometheusProcess::kBinary << " is missing: run scripts/install-deps.sh "
           << "(Debian package 'prometheus'; CI installs it)";
  }
  ASSERT_NO_FATAL_FAILURE(CreateAndProduce());

  TempDir dir;
  PrometheusProcess prometheus;
  ASSERT_TRUE(prometheus.Start(dir.path(), {MetricsTarget()}));
  ASSERT_TRUE(prometheus.WaitUntilUp(30s))
      << "target never healthy; /api/v1/targets: " << prometheus.targets_body() << "\nlog:\n"
      << prometheus.LogTail();
  std::string requests =
      prometheus.QueryUntil(R"(sluice_requests_total{api="Produce"})", "\"result\":[{", 15s);
  EXPECT_NE(requests.find(R"("api":"Produce")"), std::string::npos)
      << requests << "\nlog:\n" << prometheus.LogTail();
  const std::string leo_value = "\"" + std::to_string(kMessages) + "\"";
  std::string leo = prometheus.QueryUntil(
      R"(sluice_partition_log_end_offset{topic="t",partition="0"})", leo_value, 15s);
  EXPECT_NE(leo.find(leo_value), std::string::npos) << leo;
  std::string latency = prometheus.QueryUntil(
      R"(sluice_request_latency_seconds_count{api="Produce"})", "\"result\":[{", 15s);
  EXPECT_NE(latency.find(R"("api":"Produce")"), std::string::npos) << latency;
  EXPECT_EQ(prometheus.Stop(), 0) << prometheus.LogTail();
}

TEST(MetricsDisabledTest, EmptyListenerDisablesTheEndpoint) {
  BrokerProcess broker;
  BrokerProcessOptions options;
  options.overrides = {"sluice.metrics.listener="};
  Status s = broker.Start(options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::string out = broker.output();
  EXPECT_EQ(out.find("metrics on http://"), std::string::npos) << out;
  EXPECT_NE(out.find("metrics endpoint disabled"), std::string::npos) << out;
  Result<int> code = broker.Stop();
  ASSERT_TRUE(code.ok()) << code.status().ToString() << "\n" << broker.output();
  EXPECT_EQ(*code, 0) << broker.output();
}

}  // namespace
}  // namespace sluice::testing
