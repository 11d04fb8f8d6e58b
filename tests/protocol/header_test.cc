// Header versions, the ApiVersions handshake as clients send it, and the
// KIP-511 fallback bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/api_versions.h"
#include "protocol/error_code.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/produce.h"
#include "protocol/header.h"

namespace sluice::protocol {
namespace {

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<uint8_t> Str(const std::string& s) { return {s.begin(), s.end()}; }

TEST(HeaderVersions, FollowFlexibleVersions) {
  EXPECT_EQ(RequestHeaderVersion(0, 8), 1);  // Produce v8: classic.
  EXPECT_EQ(RequestHeaderVersion(0, 9), 2);  // Produce v9: flexible.
  EXPECT_EQ(ResponseHeaderVersion(0, 8), 0);
  EXPECT_EQ(ResponseHeaderVersion(0, 9), 1);
  EXPECT_EQ(RequestHeaderVersion(3, 9), 2);  // Metadata v9.
  EXPECT_EQ(ResponseHeaderVersion(1, 12), 1);  // Fetch v12.
  EXPECT_EQ(RequestHeaderVersion(7, 0), 0);  // ControlledShutdown v0.
}

TEST(HeaderVersions, ApiVersionsResponseHeaderIsAlwaysV0) {
  EXPECT_EQ(RequestHeaderVersion(18, 3), 2);
  for (int16_t v = 0; v <= 3; ++v) EXPECT_EQ(ResponseHeaderVersion(18, v), 0);
}

// ApiVersions v3 as librdkafka sends it (protocol guide: request header v2
// with a classic client_id, compact strings, empty tagged fields).
TEST(Handshake, LibrdkafkaApiVersionsV3) {
  const std::vector<uint8_t> frame = Concat({
      {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01},  // key 18, v3, correlation 1
      {0x00, 0x07}, Str("rdkafka"),                        // client_id (int16 length)
      {0x00},                                              // header tagged fields
      {0x0b}, Str("librdkafka"),                           // compact string, length+1
      {0x06}, Str("2.0.2"),
      {0x00},                                              // body tagged fields
  });
  Reader in(frame);
  Result<RequestHeader> header = DecodeRequestHeader(in);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->request_api_key, 18);
  EXPECT_EQ(header->request_api_version, 3);
  EXPECT_EQ(header->correlation_id, 1);
  EXPECT_EQ(header->client_id, "rdkafka");
  EXPECT_FALSE(NeedsApiVersionsFallback(*header));
  ApiVersionsRequest body;
  ASSERT_TRUE(body.Decode(in, 3).ok());
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_EQ(body.client_software_name, "librdkafka");
  EXPECT_EQ(body.client_software_version, "2.0.2");
  // And it re-encodes to the same bytes.
  EXPECT_EQ(EncodeRequest(*header, body), frame);
}

TEST(Handshake, KafkaPythonApiVersionsV0) {
  const std::vector<uint8_t> frame = Concat({
      {0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x02}, Str("kp")});
  Reader in(frame);
  Result<RequestHeader> header = DecodeRequestHeader(in);
  ASSERT_TRUE(header.ok());
  ApiVersionsRequest body;
  ASSERT_TRUE(body.Decode(in, 0).ok());
  EXPECT_EQ(in.remaining(), 0u);
}

// KIP-511: ApiVersions v4 (flexible header v2) from a newer client. Only the
// v1 part of the header is read, and the answer is a v0 response with
// UNSUPPORTED_VERSION listing the ApiVersions range.
TEST(Handshake, UnsupportedApiVersionsFallback) {
  const std::vector<uint8_t> frame = Concat({
      {0x00, 0x12, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x02}, Str("cl"),
      {0x00, 0x03, 0x61, 0x03, 0x62, 0x00}});
  Reader in(frame);
  Result<RequestHeader> header = DecodeRequestHeader(in);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->request_api_version, 4);
  EXPECT_EQ(header->correlation_id, 42);
  ASSERT_TRUE(NeedsApiVersionsFallback(*header));
  OutputChain chain = UnsupportedApiVersionsFrame(header->correlation_id);
  const std::vector<uint8_t> expected = {
      0x00, 0x00, 0x00, 0x10,  // size 16
      0x00, 0x00, 0x00, 0x2a,  // correlation id (v0 header: no tagged fields)
      0x00, 0x23,              // UNSUPPORTED_VERSION (35)
      0x00, 0x00, 0x00, 0x01,  // one api
      0x00, 0x12, 0x00, 0x00, 0x00, 0x03,  // ApiVersions 0-3
  };
  EXPECT_EQ(FlattenInMemory(chain), expected);
}

TEST(Handshake, AdvertisedVersionsComeFromRegistry) {
  ApiVersionsResponse response;
  response.api_keys = AdvertisedVersions();
  bool has_produce = false;
  for (const auto& v : response.api_keys) {
    if (v.api_key == 0) {
      has_produce = true;
      EXPECT_EQ(v.min_version, ProduceRequest::kMinVersion);
      EXPECT_EQ(v.max_version, ProduceRequest::kMaxVersion);
    }
  }
  EXPECT_TRUE(has_produce);
}

TEST(Frame, FlexibleResponseHeaderHasTaggedFields) {
  MetadataResponse body;
  OutputChain v9 = EncodeResponseFrame(5, 9, body);
  OutputChain v8 = EncodeResponseFrame(5, 8, body);
  std::vector<uint8_t> a = FlattenInMemory(v9);
  std::vector<uint8_t> b = FlattenInMemory(v8);
  ASSERT_GE(a.size(), 9u);
  EXPECT_EQ(a[8], 0x00);  // Empty tagged fields after the correlation id.
  EXPECT_EQ(LoadBigEndian<int32_t>(a.data()), static_cast<int32_t>(a.size() - 4));
  EXPECT_EQ(LoadBigEndian<int32_t>(b.data()), static_cast<int32_t>(b.size() - 4));
}

TEST(Frame, RequestHeaderClientIdStaysClassicInV2) {
  RequestHeader h;
  h.request_api_key = 0;
  h.request_api_version = 9;
  h.correlation_id = 3;
  h.client_id = "abc";
  ProduceRequest body;
  std::vector<uint8_t> bytes = EncodeRequest(h, body);
  // key, version, correlation, then int16 length 3 (not a compact length 4).
  ASSERT_GE(bytes.size(), 14u);
  EXPECT_EQ(bytes[8], 0x00);
  EXPECT_EQ(bytes[9], 0x03);
  EXPECT_EQ(bytes[13], 0x00);  // Header tagged fields.
}

TEST(Frame, NullClientId) {
  RequestHeader h;
  h.request_api_key = 3;
  h.request_api_version = 1;
  h.client_id = std::nullopt;
  std::vector<uint8_t> bytes = EncodeRequest(h, MetadataRequest{});
  EXPECT_EQ(bytes[8], 0xff);
  EXPECT_EQ(bytes[9], 0xff);
  Reader in(bytes);
  Result<RequestHeader> back = DecodeRequestHeader(in);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->client_id.has_value());
}

TEST(Frame, TooShortForAHeader) {
  const std::vector<uint8_t> bytes = {0x00, 0x12, 0x00};
  Reader in(bytes);
  Result<RequestHeader> header = DecodeRequestHeader(in);
  EXPECT_FALSE(header.ok());
}

}  // namespace
}  // namespace sluice::protocol
