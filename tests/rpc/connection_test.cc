// rpc::Connection against peers on loopback sockets that the tests script:
// correct answers, and the ways a peer goes wrong (refusing, closing mid-
// frame, a 2 GiB size, a wrong correlation id, never answering).
#include "rpc/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "fake_peer.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/controlled_shutdown.h"
#include "protocol/generated/fetch.h"
#include "protocol/header.h"

namespace sluice::rpc {
namespace {

using protocol::ApiVersionsRequest;
using protocol::ApiVersionsResponse;
using namespace std::chrono_literals;

// A whole response frame (size prefix, header, body).
template <typename Resp>
std::vector<uint8_t> ResponseFrame(int32_t correlation_id, int16_t version, const Resp& body) {
  return protocol::FlattenInMemory(protocol::EncodeResponseFrame(correlation_id, version, body));
}

// Reads one request and decodes its header (the peer's view of the call);
// *body_offset: where the body starts in *frame.
bool ReadRequest(int fd, protocol::RequestHeader* header, std::vector<uint8_t>* frame,
                 size_t* body_offset = nullptr) {
  if (!ReadFrame(fd, frame)) return false;
  protocol::Reader in(*frame);
  if (!protocol::DecodeRequestHeader(in, header).ok()) return false;
  if (body_offset != nullptr) *body_offset = frame->size() - in.remaining();
  return true;
}

ApiVersionsResponse SomeApiVersions() {
  ApiVersionsResponse r;
  r.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 3});
  r.api_keys.push_back({.api_key = 1, .min_version = 4, .max_version = 12});
  return r;
}

// A peer that answers each request with SomeApiVersions(), with the
// request's correlation id plus `skew`.
FakePeer::Script AnswerApiVersions(int count, int32_t skew = 0) {
  return [count, skew](int fd) {
    for (int i = 0; i < count; ++i) {
      protocol::RequestHeader h;
      std::vector<uint8_t> frame;
      if (!ReadRequest(fd, &h, &frame)) return;
      if (!WriteAll(fd, ResponseFrame(h.correlation_id + skew, h.request_api_version,
                                      SomeApiVersions()))) {
        return;
      }
    }
    ReadUntilClosed(fd);
  };
}

std::unique_ptr<Connection> MustConnect(const FakePeer& peer, ConnectionOptions options = {}) {
  auto conn = Connection::Connect("127.0.0.1", peer.port(), std::move(options));
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

Result<Reply<ApiVersionsResponse>> CallApiVersions(Connection& conn, int16_t version = 3) {
  return conn.Call<ApiVersionsRequest, ApiVersionsResponse>({}, version);
}

TEST(Connection, CallsCarryTheHeaderAndIncreasingCorrelationIds) {
  std::vector<protocol::RequestHeader> seen;
  FakePeer peer([&](int fd) {
    for (int i = 0; i < 3; ++i) {
      protocol::RequestHeader h;
      std::vector<uint8_t> frame;
      if (!ReadRequest(fd, &h, &frame)) return;
      seen.push_back(h);
      if (!WriteAll(fd, ResponseFrame(h.correlation_id, h.request_api_version,
                                      SomeApiVersions()))) {
        return;
      }
    }
    ReadUntilClosed(fd);
  });
  {
    auto conn = MustConnect(peer, {.client_id = "rpc-test"});
    ASSERT_NE(conn, nullptr);
    for (int16_t version : {int16_t{0}, int16_t{3}, int16_t{2}}) {
      auto reply = CallApiVersions(*conn, version);
      ASSERT_TRUE(reply.ok()) << reply.status().ToString();
      EXPECT_EQ(reply->body().api_keys, SomeApiVersions().api_keys);
      EXPECT_EQ(reply->body().error_code, 0);
    }
    EXPECT_FALSE(conn->broken());
    EXPECT_EQ(conn->failure(), Failure::kNone);
    EXPECT_EQ(conn->next_correlation_id(), 3);
  }
  peer.Join();
  ASSERT_EQ(seen.size(), 3u);
  const int16_t versions[] = {0, 3, 2};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].request_api_key, 18);
    EXPECT_EQ(seen[i].request_api_version, versions[i]);
    EXPECT_EQ(seen[i].correlation_id, static_cast<int32_t>(i));
    EXPECT_EQ(seen[i].client_id, "rpc-test");
  }
}

// ControlledShutdown v0 is the one request with a v0 header (no client id):
// the peer finds the body right after the correlation id.
TEST(Connection, ControlledShutdownV0HasNoClientId) {
  std::optional<protocol::ControlledShutdownRequest> got;
  size_t header_bytes = 0;
  FakePeer peer([&](int fd) {
    protocol::RequestHeader h;
    std::vector<uint8_t> frame;
    size_t body = 0;
    if (!ReadRequest(fd, &h, &frame, &body)) return;
    header_bytes = body;
    protocol::Reader in(std::span<const uint8_t>(frame).subspan(body));
    protocol::ControlledShutdownRequest req;
    if (!req.Decode(in, h.request_api_version).ok() || in.remaining() != 0) return;
    got = req;
    protocol::ControlledShutdownResponse resp;
    resp.remaining_partitions.push_back({.topic_name = "t", .partition_index = 3});
    WriteAll(fd, ResponseFrame(h.correlation_id, h.request_api_version, resp));
    ReadUntilClosed(fd);
  });
  {
    auto conn = MustConnect(peer);
    ASSERT_NE(conn, nullptr);
    protocol::ControlledShutdownRequest req;
    req.broker_id = 7;
    auto reply = conn->Call<protocol::ControlledShutdownRequest,
                            protocol::ControlledShutdownResponse>(req, 0);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->body().remaining_partitions.size(), 1u);
    EXPECT_EQ(reply->body().remaining_partitions[0].topic_name, "t");
    EXPECT_EQ(reply->body().remaining_partitions[0].partition_index, 3);
  }
  peer.Join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->broker_id, 7);
  EXPECT_EQ(header_bytes, 8u);  // Key, version, correlation id.
}

// Records in a decoded response are views into the frame: they stay valid
// when the Reply moves (ASan would report a read of a freed frame).
TEST(Connection, RecordsStayValidWhenTheReplyMoves) {
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  FakePeer peer([&](int fd) {
    protocol::RequestHeader h;
    std::vector<uint8_t> frame;
    if (!ReadRequest(fd, &h, &frame)) return;
    protocol::FetchResponse resp;
    auto& p = resp.responses.emplace_back().partitions.emplace_back();
    p.records = protocol::Records::Owned(data);
    WriteAll(fd, ResponseFrame(h.correlation_id, h.request_api_version, resp));
    ReadUntilClosed(fd);
  });
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto reply = conn->Call<protocol::FetchRequest, protocol::FetchResponse>({}, 12);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  std::vector<Reply<protocol::FetchResponse>> kept;
  kept.push_back(std::move(reply).value());
  kept.reserve(16);  // Moves the Reply again.
  const auto& records = kept[0].body().responses.at(0).partitions.at(0).records;
  const std::span<const uint8_t> frame = kept[0].frame();
  ASSERT_FALSE(records.bytes().empty());
  EXPECT_GE(records.bytes().data(), frame.data());
  EXPECT_LE(records.bytes().data() + records.bytes().size(), frame.data() + frame.size());
  EXPECT_EQ(std::vector<uint8_t>(records.bytes().begin(), records.bytes().end()), data);
}

TEST(Connection, VersionThisBuildCannotEncodeLeavesTheConnectionUsable) {
  FakePeer peer(AnswerApiVersions(1));
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto bad = CallApiVersions(*conn, 99);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(conn->broken());
  auto good = CallApiVersions(*conn);
  EXPECT_TRUE(good.ok()) << good.status().ToString();
}

TEST(Connection, RefusedConnect) {
  // Bound but not listening: the port stays ours, and a SYN to it is reset.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  socklen_t len = sizeof(addr);
  ASSERT_EQ(0, getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len));
  auto conn = Connection::Connect("127.0.0.1", ntohs(addr.sin_port), {});
  close(fd);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kIOError) << conn.status().ToString();
  EXPECT_NE(conn.status().message().find("refused"), std::string::npos)
      << conn.status().ToString();
}

TEST(Connection, UnresolvableHostAndBadPort) {
  auto conn = Connection::Connect("no-such-host.invalid", 9092, {});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kIOError) << conn.status().ToString();
  conn = Connection::Connect("127.0.0.1", 0, {});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kInvalidArgument) << conn.status().ToString();
}

// A broken connection fails every later call at once with the same Status.
void ExpectBrokenForGood(Connection& conn, const Status& first, Failure kind) {
  EXPECT_TRUE(conn.broken());
  EXPECT_EQ(conn.failure(), kind);
  for (int i = 0; i < 2; ++i) {
    auto again = CallApiVersions(conn);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().code(), first.code());
    EXPECT_EQ(again.status().message(), first.message());
  }
}

TEST(Connection, PeerClosesMidFrame) {
  FakePeer peer([](int fd) {
    protocol::RequestHeader h;
    std::vector<uint8_t> frame;
    if (!ReadRequest(fd, &h, &frame)) return;
    std::vector<uint8_t> full = ResponseFrame(h.correlation_id, 3, SomeApiVersions());
    full.resize(full.size() - 3);  // The size says 3 more bytes; the peer goes.
    WriteAll(fd, full);
  });
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kIOError) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("closed"), std::string::npos)
      << reply.status().ToString();
  ExpectBrokenForGood(*conn, reply.status(), Failure::kIOError);
}

TEST(Connection, PeerClosesWithinTheSizePrefix) {
  FakePeer peer([](int fd) {
    std::vector<uint8_t> frame;
    if (!ReadFrame(fd, &frame)) return;
    const uint8_t two[] = {0, 0};
    WriteAll(fd, two);
  });
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kIOError) << reply.status().ToString();
  EXPECT_EQ(conn->failure(), Failure::kIOError);
}

// Sizes no frame may have. The peer then keeps the connection open without
// sending more: a client that believed a huge size would allocate it and
// wait for the bytes until its (long) timeout, and fail as kTimeout.
class BadSize : public ::testing::TestWithParam<int32_t> {};

TEST_P(BadSize, FailsBeforeAllocating) {
  const int32_t size = GetParam();
  FakePeer peer([size](int fd) {
    std::vector<uint8_t> frame;
    if (!ReadFrame(fd, &frame)) return;
    uint8_t prefix[4];
    StoreBigEndian(prefix, size);
    WriteAll(fd, prefix);
    ReadUntilClosed(fd);
  });
  auto conn = MustConnect(peer, {.request_timeout = 60s});
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kCorruption) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find(std::to_string(size) + " bytes"), std::string::npos)
      << reply.status().ToString();
  ExpectBrokenForGood(*conn, reply.status(), Failure::kProtocol);
}

INSTANTIATE_TEST_SUITE_P(Sizes, BadSize,
                         ::testing::Values(int32_t{0x7fffffff},      // 2 GiB - 1.
                                           int32_t{INT32_MIN},       // 2 GiB as unsigned.
                                           int32_t{-1}, int32_t{3},  // Shorter than a header.
                                           int32_t{100 * 1024 * 1024 + 1}));

TEST(Connection, FrameOverTheConfiguredMaximum) {
  FakePeer peer(AnswerApiVersions(1));
  auto conn = MustConnect(peer, {.max_response_bytes = 10});
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kCorruption) << reply.status().ToString();
  EXPECT_EQ(conn->failure(), Failure::kProtocol);
}

TEST(Connection, WrongCorrelationId) {
  FakePeer peer(AnswerApiVersions(1, /*skew=*/1));
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kCorruption) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("correlation id 1, expected 0"), std::string::npos)
      << reply.status().ToString();
  ExpectBrokenForGood(*conn, reply.status(), Failure::kProtocol);
}

TEST(Connection, UndecodableBody) {
  FakePeer peer([](int fd) {
    protocol::RequestHeader h;
    std::vector<uint8_t> frame;
    if (!ReadRequest(fd, &h, &frame)) return;
    // A correlation id, then an ApiVersions v0 body cut after its error code
    // (the array count is missing).
    std::vector<uint8_t> body(6);
    StoreBigEndian(body.data(), h.correlation_id);
    WriteAll(fd, Framed(body));
    ReadUntilClosed(fd);
  });
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn, 0);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kCorruption) << reply.status().ToString();
  ExpectBrokenForGood(*conn, reply.status(), Failure::kProtocol);
}

TEST(Connection, TrailingBytesAfterTheBody) {
  FakePeer peer([](int fd) {
    protocol::RequestHeader h;
    std::vector<uint8_t> frame;
    if (!ReadRequest(fd, &h, &frame)) return;
    std::vector<uint8_t> out = ResponseFrame(h.correlation_id, 0, SomeApiVersions());
    out.push_back(0xee);
    StoreBigEndian(out.data(), static_cast<int32_t>(out.size() - 4));
    WriteAll(fd, out);
    ReadUntilClosed(fd);
  });
  auto conn = MustConnect(peer);
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn, 0);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kCorruption) << reply.status().ToString();
  EXPECT_EQ(conn->failure(), Failure::kProtocol);
}

// Only that it fails, and how: no assertion on how long it took.
TEST(Connection, PeerThatNeverAnswersTimesOut) {
  FakePeer peer([](int fd) { ReadUntilClosed(fd); });
  auto conn = MustConnect(peer, {.request_timeout = 100ms});
  ASSERT_NE(conn, nullptr);
  auto reply = CallApiVersions(*conn);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kIOError) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("timed out"), std::string::npos)
      << reply.status().ToString();
  ExpectBrokenForGood(*conn, reply.status(), Failure::kTimeout);
}

// The peer holds the request unanswered; another thread's Shutdown() ends the
// call, long before its one-minute timeout (which would fail as kTimeout).
TEST(Connection, ShutdownFromAnotherThreadUnblocksACall) {
  std::promise<void> request_arrived;
  FakePeer peer([&](int fd) {
    std::vector<uint8_t> frame;
    if (!ReadFrame(fd, &frame)) return;
    request_arrived.set_value();
    ReadUntilClosed(fd);
  });
  auto conn = MustConnect(peer, {.request_timeout = 60s});
  ASSERT_NE(conn, nullptr);
  std::thread stopper([&, arrived = request_arrived.get_future()] {
    // Bounded, so that a call that failed early cannot hang the test here.
    arrived.wait_for(60s);
    conn->Shutdown();
  });
  auto reply = CallApiVersions(*conn);
  stopper.join();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kAborted) << reply.status().ToString();
  ExpectBrokenForGood(*conn, reply.status(), Failure::kShutdown);
}

// A signal shared by the connections of one thread: firing it stops the one
// in use and every later Connect.
TEST(Connection, SharedSignalStopsLaterConnects) {
  FakePeer peer(AnswerApiVersions(1));
  auto signal = ShutdownSignal::Create();
  ASSERT_TRUE(signal.ok()) << signal.status().ToString();
  auto conn = MustConnect(peer, {.shutdown = *signal});
  ASSERT_NE(conn, nullptr);
  EXPECT_TRUE(CallApiVersions(*conn).ok());
  (*signal)->Fire();
  (*signal)->Fire();  // Idempotent.
  auto after = CallApiVersions(*conn);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kAborted) << after.status().ToString();
  EXPECT_EQ(conn->failure(), Failure::kShutdown);
  auto again = Connection::Connect("127.0.0.1", peer.port(), {.shutdown = *signal});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAborted) << again.status().ToString();
}

}  // namespace
}  // namespace sluice::rpc
