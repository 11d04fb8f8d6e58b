// Request frames captured from real clients (tests/protocol/fixtures/<client>/, see the README
// there): each must decode with the generated code (header and body, nothing left over) and
// re-encode to exactly the captured bytes; a few decoded facts are checked per API. The same
// holds for the mock broker's responses to them (<client>/responses/).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "protocol/api_registry.h"
#include "protocol/generated/all_messages.h"
#include "protocol/header.h"

#ifndef SLUICE_FIXTURE_DIR
#error "SLUICE_FIXTURE_DIR (tests/protocol/fixtures) must be defined by the build"
#endif

namespace sluice::protocol {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTopic = "sluice-fixtures";
constexpr const char* kGroup = "sluice-fixture-group";
constexpr const char* kTransactionalId = "sluice-fixture-txn";
constexpr int32_t kRecordsPerProduce = 10;

struct Fixture {
  std::string client;  // Folder: librdkafka, kafka-python.
  std::string file;    // e.g. 07_join_group_v5.bin, produce_v7_lz4.bin.
  fs::path path;
};

// The request files (`sub` empty) or the response files (`sub` = "responses") of every client.
std::vector<Fixture> AllFixtures(const std::string& sub = "") {
  std::vector<Fixture> out;
  for (const auto& dir : fs::directory_iterator(SLUICE_FIXTURE_DIR)) {
    if (!dir.is_directory() || dir.path().filename() == "capture") continue;
    if (!sub.empty() && !fs::is_directory(dir.path() / sub)) continue;
    for (const auto& f : fs::directory_iterator(dir.path() / sub)) {
      if (f.path().extension() != ".bin") continue;
      out.push_back({dir.path().filename().string(), f.path().filename().string(), f.path()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Fixture& a, const Fixture& b) { return a.path < b.path; });
  return out;
}

std::vector<uint8_t> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// "produce_v7_lz4.bin" -> 3 (the record batch attributes' codec id); -1 if not a produce file.
int ExpectedCodec(const std::string& file) {
  if (!StartsWith(file, "produce_")) return -1;
  const char* names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  for (int i = 0; i < 5; ++i) {
    if (file.find(std::string("_") + names[i]) != std::string::npos) return i;
  }
  return -1;
}

int32_t BigEndian32(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                              (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}

// Facts about the decoded request, per API; the workloads (capture/*_client.*) fix them.
void CheckFacts(const Fixture& fx, const RequestHeader& header, const ProduceRequest& r) {
  if (fx.file.find("transactional") != std::string::npos) {
    EXPECT_EQ(r.transactional_id, kTransactionalId);
  } else {
    EXPECT_FALSE(r.transactional_id.has_value());
  }
  EXPECT_EQ(r.acks, -1);  // acks=all
  ASSERT_EQ(r.topic_data.size(), 1u);
  EXPECT_EQ(r.topic_data[0].name, kTopic);
  ASSERT_EQ(r.topic_data[0].partition_data.size(), 1u);
  const auto& p = r.topic_data[0].partition_data[0];
  EXPECT_EQ(p.index, 0);
  ASSERT_FALSE(p.records.is_null());
  // One v2 record batch spanning the whole records field, holding every record of the run
  // with the codec the file is named after.
  std::span<const uint8_t> b = p.records.bytes();
  ASSERT_GE(b.size(), 61u);
  EXPECT_EQ(BigEndian32(b.data() + 8), static_cast<int32_t>(b.size() - 12));  // batchLength
  EXPECT_EQ(b[16], 2);                                                        // magic
  EXPECT_EQ(b[22] & 0x7, ExpectedCodec(fx.file)) << "attributes codec";
  EXPECT_EQ(BigEndian32(b.data() + 57), kRecordsPerProduce);  // record count
  EXPECT_TRUE(header.client_id.has_value());
}

void CheckFacts(const Fixture& fx, const RequestHeader& header, const ApiVersionsRequest& r) {
  if (header.request_api_version >= 3) {  // KIP-511: the client names itself.
    EXPECT_EQ(r.client_software_name, fx.client);
    EXPECT_FALSE(r.client_software_version.empty());
  }
}

void CheckFacts(const Fixture& fx, const RequestHeader& header, const MetadataRequest& r) {
  (void)fx;
  // Either every topic (null, or empty in v0) or just ours.
  if (r.topics.has_value()) {
    for (const auto& t : *r.topics) EXPECT_EQ(t.name, kTopic);
  } else {
    EXPECT_GE(header.request_api_version, 1);
  }
}

void CheckFacts(const Fixture&, const RequestHeader& header, const FindCoordinatorRequest& r) {
  if (header.request_api_version <= 3) {
    // The consumer's group (key type 0) or the transactional producer's id (1).
    EXPECT_EQ(r.key, r.key_type == 1 ? kTransactionalId : kGroup);
  }
}

void CheckFacts(const Fixture&, const RequestHeader&, const JoinGroupRequest& r) {
  EXPECT_EQ(r.group_id, kGroup);
  EXPECT_EQ(r.protocol_type, "consumer");
  EXPECT_FALSE(r.protocols.empty());
  EXPECT_GT(r.session_timeout_ms, 0);
}

void CheckFacts(const Fixture&, const RequestHeader&, const SyncGroupRequest& r) {
  EXPECT_EQ(r.group_id, kGroup);
  EXPECT_GE(r.generation_id, 0);
  EXPECT_FALSE(r.member_id.empty());
}

void CheckFacts(const Fixture&, const RequestHeader&, const HeartbeatRequest& r) {
  EXPECT_EQ(r.group_id, kGroup);
  EXPECT_FALSE(r.member_id.empty());
}

void CheckFacts(const Fixture&, const RequestHeader& header, const LeaveGroupRequest& r) {
  EXPECT_EQ(r.group_id, kGroup);
  if (header.request_api_version <= 2) {
    EXPECT_FALSE(r.member_id.empty());
  }
}

void CheckFacts(const Fixture&, const RequestHeader&, const OffsetFetchRequest& r) {
  EXPECT_EQ(r.group_id, kGroup);
  ASSERT_TRUE(r.topics.has_value());
  ASSERT_EQ(r.topics->size(), 1u);
  EXPECT_EQ((*r.topics)[0].name, kTopic);
  EXPECT_EQ((*r.topics)[0].partition_indexes, std::vector<int32_t>{0});
}

void CheckFacts(const Fixture&, const RequestHeader&, const OffsetCommitRequest& r) {
  EXPECT_EQ(r.group_id, kGroup);
  ASSERT_EQ(r.topics.size(), 1u);
  EXPECT_EQ(r.topics[0].name, kTopic);
  ASSERT_EQ(r.topics[0].partitions.size(), 1u);
  EXPECT_EQ(r.topics[0].partitions[0].partition_index, 0);
  EXPECT_GE(r.topics[0].partitions[0].committed_offset, kRecordsPerProduce);
}

void CheckFacts(const Fixture&, const RequestHeader&, const FetchRequest& r) {
  EXPECT_EQ(r.replica_id, -1);  // A consumer.
  ASSERT_FALSE(r.topics.empty());
  EXPECT_EQ(r.topics[0].topic, kTopic);
}

void CheckFacts(const Fixture&, const RequestHeader&, const ListOffsetsRequest& r) {
  EXPECT_EQ(r.replica_id, -1);
  ASSERT_FALSE(r.topics.empty());
  EXPECT_EQ(r.topics[0].name, kTopic);
}

void CheckFacts(const Fixture&, const RequestHeader&, const InitProducerIdRequest& r) {
  // The idempotent producer sends null, the transactional one its id.
  if (r.transactional_id.has_value()) {
    EXPECT_EQ(*r.transactional_id, kTransactionalId);
    EXPECT_GT(r.transaction_timeout_ms, 0);
  }
}

void CheckFacts(const Fixture&, const RequestHeader&, const AddPartitionsToTxnRequest& r) {
  EXPECT_EQ(r.transactional_id, kTransactionalId);
  EXPECT_GE(r.producer_id, 0);
  ASSERT_EQ(r.topics.size(), 1u);
  EXPECT_EQ(r.topics[0].name, kTopic);
  EXPECT_EQ(r.topics[0].partitions, std::vector<int32_t>{0});
}

void CheckFacts(const Fixture&, const RequestHeader&, const AddOffsetsToTxnRequest& r) {
  EXPECT_EQ(r.transactional_id, kTransactionalId);
  EXPECT_EQ(r.group_id, kGroup);
  EXPECT_GE(r.producer_id, 0);
}

void CheckFacts(const Fixture&, const RequestHeader&, const TxnOffsetCommitRequest& r) {
  EXPECT_EQ(r.transactional_id, kTransactionalId);
  EXPECT_EQ(r.group_id, kGroup);
  ASSERT_EQ(r.topics.size(), 1u);
  EXPECT_EQ(r.topics[0].name, kTopic);
  ASSERT_EQ(r.topics[0].partitions.size(), 1u);
  EXPECT_EQ(r.topics[0].partitions[0].committed_offset, kRecordsPerProduce);
}

void CheckFacts(const Fixture&, const RequestHeader&, const EndTxnRequest& r) {
  EXPECT_EQ(r.transactional_id, kTransactionalId);
  EXPECT_GE(r.producer_id, 0);
}

template <typename Req>
void CheckFacts(const Fixture&, const RequestHeader&, const Req&) {}

class FixtureTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(FixtureTest, DecodesAndReencodesExactly) {
  const Fixture& fx = GetParam();
  const std::vector<uint8_t> frame = ReadFile(fx.path);
  ASSERT_GE(frame.size(), 8u);

  Reader in(frame);
  Result<RequestHeader> header = DecodeRequestHeader(in);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  const int16_t key = header->request_api_key;
  const int16_t version = header->request_api_version;
  const ApiInfo* api = FindApi(key);
  ASSERT_NE(api, nullptr) << "api key " << key;
  ASSERT_TRUE(api->Supports(version)) << api->name << " v" << version;
  EXPECT_NE(fx.file.find("_v" + std::to_string(version)), std::string::npos)
      << "file name and header disagree on the version";
  // Every workload sets its client id (sluice-fixture-producer / -consumer).
  ASSERT_TRUE(header->client_id.has_value());
  EXPECT_TRUE(StartsWith(*header->client_id, "sluice-fixture-")) << *header->client_id;

  const bool known = VisitApi(key, [&]<typename Req, typename Resp>() {
    Req body;
    Status s = body.Decode(in, version);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(in.remaining(), 0u) << "bytes left after the " << Req::kName << " body";
    const std::vector<uint8_t> again = EncodeRequest(*header, body);
    EXPECT_EQ(again, frame) << Req::kName << " v" << version << " does not re-encode exactly";
    CheckFacts(fx, *header, body);
  });
  EXPECT_TRUE(known);
}

std::string FixtureName(const ::testing::TestParamInfo<Fixture>& info) {
  std::string name = info.param.client + "_" + fs::path(info.param.file).stem().string();
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Captured, FixtureTest, ::testing::ValuesIn(AllFixtures()), FixtureName);

// The mock's response to a request fixture, stored under the same name in responses/.
class ResponseFixtureTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(ResponseFixtureTest, DecodesAndReencodesExactly) {
  const Fixture& fx = GetParam();
  const std::vector<uint8_t> request = ReadFile(fx.path.parent_path().parent_path() / fx.file);
  ASSERT_GE(request.size(), 8u) << "no request file for " << fx.file;
  Reader request_in(request);
  Result<RequestHeader> request_header = DecodeRequestHeader(request_in);
  ASSERT_TRUE(request_header.ok()) << request_header.status().ToString();
  const int16_t key = request_header->request_api_key;
  const int16_t version = request_header->request_api_version;

  const std::vector<uint8_t> frame = ReadFile(fx.path);
  Reader in(frame);
  ResponseHeader header;
  const int16_t header_version = ResponseHeaderVersion(key, version);
  Status hs = header.Decode(in, header_version);
  ASSERT_TRUE(hs.ok()) << hs.ToString();
  EXPECT_EQ(header.correlation_id, request_header->correlation_id);

  const bool known = VisitApi(key, [&]<typename Req, typename Resp>() {
    Resp body;
    Status s = body.Decode(in, version);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(in.remaining(), 0u) << "bytes left after the " << Resp::kName << " body";
    Writer out;
    header.Encode(out, header_version);
    body.Encode(out, version);
    EXPECT_EQ(out.Take(), frame) << Resp::kName << " v" << version << " does not re-encode exactly";
  });
  EXPECT_TRUE(known);
}

INSTANTIATE_TEST_SUITE_P(Captured, ResponseFixtureTest,
                         ::testing::ValuesIn(AllFixtures("responses")), FixtureName);

// The capture keeps what later work relies on: both clients, and a Produce per codec.
TEST(Fixtures, CoverBothClientsAndEveryCodec) {
  const std::vector<Fixture> all = AllFixtures();
  for (const char* client : {"librdkafka", "kafka-python"}) {
    for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
      const std::string file = std::string("produce_v7_") + codec + ".bin";
      EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const Fixture& f) {
        return f.client == client && f.file == file;
      })) << client << "/" << file;
    }
    EXPECT_GE(std::count_if(all.begin(), all.end(),
                            [&](const Fixture& f) { return f.client == client; }),
              15);
  }
}

}  // namespace
}  // namespace sluice::protocol
