// rpc::Connection against the real broker binary: the calls a broker makes
// of another (ApiVersions, Metadata, CreateTopics, Produce, a follower-style
// Fetch) at several versions, and what a dead peer does to a connection.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "model/record.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_view.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/produce.h"
#include "rpc/connection.h"
#include "support/broker_process.h"

namespace sluice::rpc {
namespace {

using model::AsBytes;
using model::AsStringView;
using testing::BrokerProcess;

class BrokerCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = broker_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto conn = Connection::Connect(broker_.host(), broker_.port(),
                                    {.client_id = "rpc-broker-test"});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  void CreateTopic(const std::string& name, int16_t version) {
    protocol::CreateTopicsRequest req;
    auto& t = req.topics.emplace_back();
    t.name = name;
    t.num_partitions = 1;
    t.replication_factor = 1;
    req.timeout_ms = 30000;
    auto reply = conn_->Call<protocol::CreateTopicsRequest, protocol::CreateTopicsResponse>(
        req, version);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->body().topics.size(), 1u);
    EXPECT_EQ(reply->body().topics[0].name, name);
    EXPECT_EQ(reply->body().topics[0].error_code, 0);
  }

  BrokerProcess broker_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(BrokerCallsTest, ApiVersionsAtEveryVersion) {
  for (int16_t v = protocol::ApiVersionsRequest::kMinVersion;
       v <= protocol::ApiVersionsRequest::kMaxVersion; ++v) {
    SCOPED_TRACE("ApiVersions v" + std::to_string(v));
    protocol::ApiVersionsRequest req;
    req.client_software_name = "sluice-rpc";
    req.client_software_version = "1";
    auto reply =
        conn_->Call<protocol::ApiVersionsRequest, protocol::ApiVersionsResponse>(req, v);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->body().error_code, 0);
    auto fetch = std::find_if(reply->body().api_keys.begin(), reply->body().api_keys.end(),
                              [](const auto& k) { return k.api_key == 1; });
    ASSERT_NE(fetch, reply->body().api_keys.end());
    EXPECT_EQ(fetch->max_version, 12);
    // The cluster-only APIs are not served by a single node (ElectLeaders
    // and the partition reassignments here; the controller's requests
    // likewise).
    EXPECT_EQ(std::count_if(reply->body().api_keys.begin(), reply->body().api_keys.end(),
                            [](const auto& k) {
                              return k.api_key == 43 || k.api_key == 45 || k.api_key == 46 ||
                                     k.api_key == 56;
                            }),
              0);
  }
  EXPECT_FALSE(conn_->broken());
}

TEST_F(BrokerCallsTest, MetadataAtSeveralVersions) {
  for (int16_t v : {int16_t{1}, int16_t{4}, int16_t{9}, int16_t{12}}) {
    SCOPED_TRACE("Metadata v" + std::to_string(v));
    protocol::MetadataRequest req;
    req.topics = std::nullopt;  // Every topic.
    auto reply = conn_->Call<protocol::MetadataRequest, protocol::MetadataResponse>(req, v);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->body().brokers.size(), 1u);
    EXPECT_EQ(reply->body().brokers[0].port, broker_.port());
    EXPECT_EQ(reply->body().brokers[0].host, broker_.host());
    EXPECT_EQ(reply->body().controller_id, reply->body().brokers[0].node_id);
  }
}

// Produce one batch, then fetch it back as a follower-less consumer would
// (replica_id -1) and read the records out of the reply, after moving it.
TEST_F(BrokerCallsTest, ProduceThenFetchTheRecords) {
  ASSERT_NO_FATAL_FAILURE(CreateTopic("rpc-topic", 7));
  model::RecordBatchBuilder builder;
  for (int i = 0; i < 5; ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value = "value-" + std::to_string(i);
    builder.Add(1700000000000 + i, AsBytes(key), AsBytes(value));
  }
  auto batch = builder.Build();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();

  for (int16_t produce_version : {int16_t{3}, int16_t{9}}) {
    SCOPED_TRACE("Produce v" + std::to_string(produce_version));
    protocol::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 10000;
    auto& t = req.topic_data.emplace_back();
    t.name = "rpc-topic";
    auto& p = t.partition_data.emplace_back();
    p.index = 0;
    p.records = protocol::Records::View(*batch);
    auto reply = conn_->Call<protocol::ProduceRequest, protocol::ProduceResponse>(
        req, produce_version);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->body().responses.size(), 1u);
    ASSERT_EQ(reply->body().responses[0].partition_responses.size(), 1u);
    const auto& pr = reply->body().responses[0].partition_responses[0];
    EXPECT_EQ(pr.error_code, 0);
    EXPECT_EQ(pr.base_offset, produce_version == 3 ? 0 : 5);
  }

  for (int16_t fetch_version : {int16_t{4}, int16_t{11}, int16_t{12}}) {
    SCOPED_TRACE("Fetch v" + std::to_string(fetch_version));
    protocol::FetchRequest req;
    req.replica_id = -1;
    req.max_wait_ms = 500;
    req.min_bytes = 1;
    req.max_bytes = 1 << 20;
    auto& t = req.topics.emplace_back();
    t.topic = "rpc-topic";
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.fetch_offset = 0;
    p.partition_max_bytes = 1 << 20;
    auto reply = conn_->Call<protocol::FetchRequest, protocol::FetchResponse>(req, fetch_version);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    // The records are views into the frame; they must survive the move.
    std::vector<Reply<protocol::FetchResponse>> kept;
    kept.push_back(std::move(reply).value());
    const protocol::FetchResponse& resp = kept[0].body();
    ASSERT_EQ(resp.responses.size(), 1u);
    ASSERT_EQ(resp.responses[0].partitions.size(), 1u);
    const auto& part = resp.responses[0].partitions[0];
    EXPECT_EQ(part.error_code, 0);
    EXPECT_EQ(part.high_watermark, 10);
    std::span<const uint8_t> bytes = part.records.bytes();
    std::vector<std::pair<int64_t, std::string>> records;
    while (!bytes.empty()) {
      auto view = model::RecordBatchView::Parse(bytes);
      ASSERT_TRUE(view.ok()) << view.status().ToString();
      model::RecordIterator it = view->Records();
      model::Record r;
      while (it.Next(&r)) {
        ASSERT_TRUE(r.value.has_value());
        records.emplace_back(r.offset, std::string(AsStringView(*r.value)));
      }
      ASSERT_TRUE(it.status().ok()) << it.status().ToString();
      bytes = bytes.subspan(view->bytes().size());
    }
    ASSERT_EQ(records.size(), 10u);
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].first, static_cast<int64_t>(i));
      EXPECT_EQ(records[i].second, "value-" + std::to_string(i % 5));
    }
  }
  EXPECT_FALSE(conn_->broken());
  EXPECT_GE(conn_->next_correlation_id(), 6);
}

// A broker that goes away breaks the connection; a new one to the restarted
// broker works.
TEST_F(BrokerCallsTest, StoppedBrokerBreaksTheConnection) {
  auto ok = conn_->Call<protocol::ApiVersionsRequest, protocol::ApiVersionsResponse>({}, 3);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto code = broker_.Stop();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  auto reply = conn_->Call<protocol::ApiVersionsRequest, protocol::ApiVersionsResponse>({}, 3);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kIOError) << reply.status().ToString();
  EXPECT_EQ(conn_->failure(), Failure::kIOError);
  auto again = conn_->Call<protocol::ApiVersionsRequest, protocol::ApiVersionsResponse>({}, 3);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), reply.status().message());
}

}  // namespace
}  // namespace sluice::rpc
