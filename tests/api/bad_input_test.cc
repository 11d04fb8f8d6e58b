// The real sluice-broker under hostile input over raw TCP: random bytes,
// truncated frames, absurd length prefixes, unknown APIs and versions,
// garbage request bodies, corrupt record batches and connection churn. After
// all of it the broker must still be alive, serve librdkafka, hold the
// messages produced before, and exit 0 on SIGTERM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <type_traits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/endian.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_header.h"
#include "protocol/api_registry.h"
#include "protocol/generated/all_messages.h"
#include "protocol/generated/fill_random.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/produce.h"
#include "protocol/header.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"
#include "support/metrics_scrape.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int32_t kMaxRequestBytes = 1 << 20;  // socket.request.max.bytes for this test.
constexpr auto kReadTimeout = 10s;              // "Never a hang": generous even under ASan.
constexpr int16_t kCorruptMessage = 2;
constexpr int16_t kUnsupportedVersion = 35;
const std::string kTopic = "known";

std::vector<uint8_t> RandomBytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

std::vector<uint8_t> Prefix(uint32_t length) {
  std::vector<uint8_t> out(4);
  StoreBigEndian<uint32_t>(out.data(), length);
  return out;
}

// A frame: the 4-byte length, then `payload`.
std::vector<uint8_t> Framed(std::span<const uint8_t> payload) {
  std::vector<uint8_t> out = Prefix(static_cast<uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// A request header for any key and version: the version the broker expects
// for supported (key, version) pairs, else v1 (all the broker reads then).
std::vector<uint8_t> Header(int16_t key, int16_t version, int32_t correlation_id) {
  protocol::RequestHeader h;
  h.request_api_key = key;
  h.request_api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = "bad-input-test";
  const protocol::ApiInfo* api = protocol::FindApi(key);
  const int16_t header_version =
      api != nullptr && api->Supports(version) ? protocol::RequestHeaderVersion(key, version) : 1;
  protocol::Writer out;
  h.Encode(out, header_version);
  return out.Take();
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, std::span<const uint8_t> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> ApiVersionsFrame(int16_t version, int32_t correlation_id) {
  protocol::RequestHeader h;
  h.request_api_key = protocol::ApiVersionsRequest::kApiKey;
  h.request_api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = "bad-input-test";
  protocol::ApiVersionsRequest body;
  body.client_software_name = "bad-input-test";
  body.client_software_version = "1.0";
  if (version >= 0 && version <= protocol::ApiVersionsRequest::kMaxVersion) {
    return Framed(protocol::EncodeRequest(h, body));
  }
  // KIP-511: a newer client sends a v2 header and a body we cannot parse.
  protocol::Writer out;
  h.Encode(out, 2);
  body.Encode(out, protocol::ApiVersionsRequest::kMaxVersion);
  return Framed(out.Take());
}

enum class Outcome { kFrame, kClosed, kTimeout };

const char* Name(Outcome o) {
  switch (o) {
    case Outcome::kFrame: return "a response";
    case Outcome::kClosed: return "closed";
    case Outcome::kTimeout: return "TIMEOUT (hang)";
  }
  return "?";
}

// A plain blocking POSIX socket with send/receive timeouts and poll-bounded reads.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() { Close(); }
  RawConnection(RawConnection&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  RawConnection& operator=(RawConnection&&) = delete;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }

  // False once the peer closed (EPIPE/ECONNRESET) or the send timed out.
  bool Send(std::span<const uint8_t> bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // Reads one response frame (without its length prefix).
  Outcome ReadFrame(std::vector<uint8_t>* frame, std::chrono::milliseconds timeout = kReadTimeout) {
    const auto deadline = Clock::now() + timeout;
    uint8_t prefix[4];
    if (Outcome o = ReadExact(prefix, 4, deadline); o != Outcome::kFrame) return o;
    const int32_t size = LoadBigEndian<int32_t>(prefix);
    if (size < 0 || size > (64 << 20)) {
      ADD_FAILURE() << "broker sent a frame of size " << size;
      return Outcome::kClosed;
    }
    frame->assign(static_cast<size_t>(size), 0);
    return ReadExact(frame->data(), frame->size(), deadline);
  }

  // Reads (and discards) responses until the broker closes the connection.
  Outcome WaitForClose(std::chrono::milliseconds timeout = kReadTimeout, int* frames = nullptr) {
    const auto deadline = Clock::now() + timeout;
    std::vector<uint8_t> frame;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Outcome::kTimeout;
      Outcome o = ReadFrame(&frame, left);
      if (o != Outcome::kFrame) return o;
      if (frames != nullptr) ++*frames;
    }
  }

  // Closes with a RST instead of a FIN.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    Close();
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  Outcome ReadExact(uint8_t* out, size_t n, Clock::time_point deadline) {
    size_t have = 0;
    while (have < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return Outcome::kTimeout;
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return Outcome::kTimeout;
      const ssize_t got = ::recv(fd_, out + have, n - have, 0);
      if (got == 0) return Outcome::kClosed;
      if (got < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return Outcome::kClosed;  // ECONNRESET: closed with unread input.
      }
      have += static_cast<size_t>(got);
    }
    return Outcome::kFrame;
  }

  int fd_ = -1;
};

// A field of /proc/<pid>/status in kB ("VmRSS:", "VmHWM:"); -1 if absent.
int64_t ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(field.size()));
  }
  return -1;
}

size_t OpenFds(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// kill(pid, 0) also succeeds for a zombie, so look at the state too.
bool Alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  const char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

std::string Tail(const std::string& s, size_t n = 4000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

int32_t CorrelationId(const std::vector<uint8_t>& frame) {
  return frame.size() >= 4 ? LoadBigEndian<int32_t>(frame.data()) : INT32_MIN;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerProcessOptions options;
    options.overrides = {"socket.request.max.bytes=" + std::to_string(kMaxRequestBytes)};
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<KafkaClient>(broker_.host() + ":" + std::to_string(broker_.port()));
    ASSERT_EQ(0, client_->CreateTopic(kTopic, 1));
    producer_ = client_->MakeProducer({{"acks", "all"}, {"linger.ms", "5"}});
    ProduceKnown(*producer_, "before", 50);
  }

  void TearDown() override {
    producer_.reset();
    if (broker_.running()) broker_.Kill();
    const std::string out = broker_.output();
    EXPECT_EQ(std::string::npos, out.find("ERROR: AddressSanitizer")) << Tail(out, 20000);
    EXPECT_EQ(std::string::npos, out.find("runtime error:")) << Tail(out, 20000);
    EXPECT_EQ(std::string::npos, out.find("ERROR: LeakSanitizer")) << Tail(out, 20000);
  }

  // Produces `n` messages "<tag>-<i>" to partition 0 and records them.
  void ProduceKnown(RdKafka::Producer& producer, const std::string& tag, int n) {
    std::vector<std::unique_ptr<DeliveryResult>> results;
    std::vector<std::string> values;
    for (int i = 0; i < n; ++i) {
      values.push_back(tag + "-" + std::to_string(i) + std::string(static_cast<size_t>(i % 37), 'x'));
      results.push_back(std::make_unique<DeliveryResult>());
      ASSERT_EQ(RdKafka::ERR_NO_ERROR,
                producer.produce(kTopic, 0, RdKafka::Producer::RK_MSG_COPY,
                                 const_cast<char*>(values.back().data()), values.back().size(),
                                 nullptr, 0, 0, nullptr, results.back().get()));
      producer.poll(0);
    }
    producer.flush(30000);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(results[static_cast<size_t>(i)]->done) << tag << " " << i;
      ASSERT_EQ(RdKafka::ERR_NO_ERROR, results[static_cast<size_t>(i)]->err) << tag << " " << i;
      ASSERT_EQ(static_cast<int64_t>(known_.size()), results[static_cast<size_t>(i)]->offset);
      known_.push_back(values[static_cast<size_t>(i)]);
    }
  }

  int64_t HighWatermark() {
    int64_t low = -1, high = -1;
    RdKafka::ErrorCode err = producer_->query_watermark_offsets(kTopic, 0, &low, &high, 10000);
    EXPECT_EQ(RdKafka::ERR_NO_ERROR, err) << RdKafka::err2str(err);
    return high;
  }

  RawConnection Connect() {
    RawConnection c(broker_.port());
    EXPECT_TRUE(c.ok()) << "connect failed: " << std::strerror(errno);
    return c;
  }

  // One ApiVersions v3 round trip on a fresh connection; the advertised list.
  std::optional<std::vector<protocol::ApiVersionsResponse::ApiVersion>> ApiVersionsExchange(
      std::chrono::milliseconds timeout = kReadTimeout) {
    RawConnection c = Connect();
    if (!c.ok() || !c.Send(ApiVersionsFrame(3, 4242))) return std::nullopt;
    std::vector<uint8_t> frame;
    Outcome o = c.ReadFrame(&frame, timeout);
    if (o != Outcome::kFrame) {
      ADD_FAILURE() << "ApiVersions v3: " << Name(o);
      return std::nullopt;
    }
    protocol::Reader in(frame);
    protocol::ResponseHeader h;
    protocol::ApiVersionsResponse r;
    if (!h.Decode(in, 0).ok() || h.correlation_id != 4242 || !r.Decode(in, 3).ok() ||
        r.error_code != 0) {
      ADD_FAILURE() << "bad ApiVersions v3 response";
      return std::nullopt;
    }
    return r.api_keys;
  }

  // Sends `bytes` on a fresh connection, half-closes, and expects the broker
  // to close it (answering whatever completed frames it liked first).
  void ExpectClosedAfter(std::span<const uint8_t> bytes, const std::string& what) {
    RawConnection c = Connect();
    c.Send(bytes);  // May fail: the broker may close before reading it all.
    c.ShutdownWrite();
    Outcome o = c.WaitForClose();
    EXPECT_EQ(Outcome::kClosed, o) << what << ": " << Name(o);
  }

  // Sends `bytes` without closing our side: the broker must close on its own
  // and send nothing.
  void ExpectRefused(std::span<const uint8_t> bytes, const std::string& what) {
    RawConnection c = Connect();
    c.Send(bytes);
    std::vector<uint8_t> frame;
    Outcome o = c.ReadFrame(&frame);
    EXPECT_EQ(Outcome::kClosed, o) << what << ": " << Name(o);
  }

  // Step 1: random bytes, bare and with a correct length prefix.
  void RandomInput() {
    for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
      std::mt19937_64 rng(seed);
      for (size_t size : {size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{100}, size_t{4096},
                          size_t{65536}, size_t{1 + rng() % 65536}}) {
        const std::string what = "seed " + std::to_string(seed) + " size " + std::to_string(size);
        ExpectClosedAfter(RandomBytes(rng, size), "random " + what);
        ExpectClosedAfter(Framed(RandomBytes(rng, size)), "framed random " + what);
      }
    }
  }

  // Step 2: truncated frames, closed and left idle.
  void TruncatedFrames() {
    std::mt19937_64 rng(7);
    const std::vector<uint8_t> api_versions = ApiVersionsFrame(3, 7);
    for (size_t cut = 1; cut < api_versions.size(); cut += 3) {
      ExpectClosedAfter(std::span(api_versions).first(cut), "ApiVersions cut at " + std::to_string(cut));
    }
    ExpectClosedAfter(Concat(Prefix(1000), RandomBytes(rng, 10)), "1000 claimed, 10 sent");
    ExpectClosedAfter(Concat(Prefix(kMaxRequestBytes), RandomBytes(rng, 60000)), "max claimed, 60000 sent");

    // Idle half-sent frames must not block anyone else.
    std::vector<RawConnection> idle;
    for (int i = 0; i < 24; ++i) {
      RawConnection c = Connect();
      switch (i % 4) {
        case 0: c.Send(std::span(api_versions).first(2)); break;  // Half a length prefix.
        case 1: c.Send(Prefix(1000)); break;                        // Only a prefix.
        case 2: c.Send(std::span(api_versions).first(api_versions.size() - 1)); break;
        case 3: c.Send(Concat(Prefix(kMaxRequestBytes), RandomBytes(rng, 30000))); break;
      }
      idle.push_back(std::move(c));
    }
    const auto start = Clock::now();
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(ApiVersionsExchange(5s)) << "blocked by idle partial frames";
    EXPECT_GE(HighWatermark(), static_cast<int64_t>(known_.size()));
    EXPECT_LT(Clock::now() - start, 8s);
    // A frame trickled in pieces is still answered.
    RawConnection slow = Connect();
    ASSERT_TRUE(slow.Send(std::span(api_versions).first(2)));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(slow.Send(std::span(api_versions).subspan(2, 7)));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(slow.Send(std::span(api_versions).subspan(9)));
    std::vector<uint8_t> frame;
    ASSERT_EQ(Outcome::kFrame, slow.ReadFrame(&frame));
    EXPECT_EQ(7, CorrelationId(frame));
    // The idle ones are still open (they are waiting, not broken).
    for (auto& c : idle) {
      EXPECT_EQ(Outcome::kTimeout, c.ReadFrame(&frame, 1ms));
    }
  }

  // Step 3: absurd and just-too-large length prefixes.
  void HugeLengthPrefixes() {
    const pid_t pid = broker_.pid();
    const int64_t rss_before = ProcStatusKb(pid, "VmRSS:");
    const int64_t hwm_before = ProcStatusKb(pid, "VmHWM:");
    std::mt19937_64 rng(8);
    for (uint32_t length : {0x7fffffffu, 0x80000000u, 0xffffffffu, 0x7ffffff0u, 0x40000000u,
                            static_cast<uint32_t>(kMaxRequestBytes) + 1,
                            static_cast<uint32_t>(kMaxRequestBytes) * 2}) {
      const std::string what = "length prefix " + std::to_string(length);
      ExpectRefused(Prefix(length), what);
      ExpectRefused(Concat(Prefix(length), RandomBytes(rng, 65536)), what + " + 64 KiB");
    }
    // Many at once: an allocation per connection would show.
    std::vector<RawConnection> many;
    for (int i = 0; i < 32; ++i) {
      many.push_back(Connect());
      many.back().Send(Concat(
          Prefix(i % 2 ? 0x7fffffffu : static_cast<uint32_t>(kMaxRequestBytes) + 1),
          RandomBytes(rng, 1024)));
    }
    std::vector<uint8_t> frame;
    for (auto& c : many) EXPECT_EQ(Outcome::kClosed, c.ReadFrame(&frame));
    const int64_t rss_after = ProcStatusKb(pid, "VmRSS:");
    const int64_t hwm_after = ProcStatusKb(pid, "VmHWM:");
    std::printf("[bad-input] RSS %lld -> %lld kB, peak %lld -> %lld kB\n",
                static_cast<long long>(rss_before), static_cast<long long>(rss_after),
                static_cast<long long>(hwm_before), static_cast<long long>(hwm_after));
    ASSERT_GT(rss_before, 0);
    // 2 GiB (or 1 MiB x 16) claimed; a few MiB of noise allowed.
    EXPECT_LT(rss_after - rss_before, 32 * 1024);
    EXPECT_LT(hwm_after - hwm_before, 32 * 1024);
  }

  // Step 4: unknown keys, unsupported versions, undecodable headers, KIP-511.
  void UnknownApisAndVersions() {
    struct Case {
      int16_t key;
      int16_t version;
    };
    for (Case c : std::vector<Case>{{999, 0}, {-1, 0}, {32767, 3}, {-32768, 0}, {4, 0},
                                    {8, 2} /* OffsetCommit: parsed, not served */,
                                    {0, 99}, {0, -1}, {0, 2} /* below Produce v3 */,
                                    {1, 99}, {3, 32767}, {19, -5}}) {
      const std::string what = "key " + std::to_string(c.key) + " v" + std::to_string(c.version);
      ExpectRefused(Framed(Concat(Header(c.key, c.version, 1), std::vector<uint8_t>(16, 0))), what);
    }
    // Headers that do not decode.
    ExpectRefused(Framed(std::vector<uint8_t>{0, 18}), "2-byte header");
    ExpectRefused(Framed(std::vector<uint8_t>{0, 18, 0, 3, 0, 0}), "6-byte header");
    ExpectRefused(Framed(std::vector<uint8_t>{0, 18, 0, 3, 0, 0, 0, 1, 0x7f, 0xff, 'a'}),
                  "client id longer than the frame");
    ExpectRefused(Framed(std::vector<uint8_t>{}), "empty frame");

    // KIP-511: an ApiVersions version we do not know gets a v0 answer.
    for (int16_t version : {int16_t{99}, int16_t{4}, int16_t{32767}, int16_t{-1}}) {
      SCOPED_TRACE("ApiVersions v" + std::to_string(version));
      RawConnection c = Connect();
      ASSERT_TRUE(c.Send(ApiVersionsFrame(version, 99)));
      std::vector<uint8_t> frame;
      ASSERT_EQ(Outcome::kFrame, c.ReadFrame(&frame));
      protocol::Reader in(frame);
      protocol::ResponseHeader h;
      ASSERT_TRUE(h.Decode(in, 0).ok());
      EXPECT_EQ(99, h.correlation_id);
      protocol::ApiVersionsResponse r;
      Status s = r.Decode(in, 0);
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(0u, in.remaining());
      EXPECT_EQ(kUnsupportedVersion, r.error_code);
      auto it = std::find_if(r.api_keys.begin(), r.api_keys.end(),
                             [](const auto& v) { return v.api_key == 18; });
      ASSERT_NE(it, r.api_keys.end());
      EXPECT_EQ(0, it->min_version);
      EXPECT_EQ(3, it->max_version);
      // The client then retries on the same connection with a version we know.
      ASSERT_TRUE(c.Send(ApiVersionsFrame(3, 100)));
      ASSERT_EQ(Outcome::kFrame, c.ReadFrame(&frame));
      protocol::Reader in3(frame);
      ASSERT_TRUE(h.Decode(in3, 0).ok());
      EXPECT_EQ(100, h.correlation_id);
      ASSERT_TRUE(r.Decode(in3, 3).ok());
      EXPECT_EQ(0, r.error_code);
      EXPECT_GT(r.api_keys.size(), 5u);
    }
  }

  // Step 5: valid headers, random bodies, for every advertised API.
  void GarbageBodies() {
    auto apis = ApiVersionsExchange();
    ASSERT_TRUE(apis);
    ASSERT_FALSE(apis->empty());
    std::map<std::string, int> tally;
    for (const auto& api : *apis) {
      for (int16_t version : {api.max_version, api.min_version}) {
        for (uint64_t seed : {21, 22}) {
          std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(api.api_key));
          for (size_t size : {0, 1, 2, 4, 7, 16, 64, 1024, 16384}) {
            const std::string what = "key " + std::to_string(api.api_key) + " v" +
                                     std::to_string(version) + " seed " + std::to_string(seed) +
                                     " body " + std::to_string(size);
            RawConnection c = Connect();
            // The garbage request, then an ApiVersions v0 behind it: a request
            // legitimately without a response (acks=0) still lets that through.
            std::vector<uint8_t> bytes =
                Framed(Concat(Header(api.api_key, version, 500), RandomBytes(rng, size)));
            bytes = Concat(std::move(bytes), ApiVersionsFrame(0, 501));
            c.Send(bytes);
            std::vector<uint8_t> frame;
            Outcome o = c.ReadFrame(&frame);
            if (o == Outcome::kFrame && CorrelationId(frame) == 500) {
              ++tally["response"];
              o = c.ReadFrame(&frame);
            }
            if (o == Outcome::kFrame) {
              EXPECT_EQ(501, CorrelationId(frame)) << what;
              ++tally["connection kept"];
            } else if (o == Outcome::kClosed) {
              ++tally["closed"];
            } else {
              ADD_FAILURE() << what << ": no response and not closed within "
                            << kReadTimeout.count() << " s";
              ++tally["hang"];
            }
          }
        }
      }
    }
    std::printf("[bad-input] garbage bodies for %zu APIs:", apis->size());
    for (const auto& [k, v] : tally) std::printf(" %s=%d", k.c_str(), v);
    std::printf("\n");
  }

  // Step 5b: well-formed requests with random field values (FillRandom) for
  // every advertised API at every version: they get past the decoder into
  // the handlers. Each must get a response that decodes as that API's
  // response, or a closed connection; never a hang.
  void RandomWellFormedRequests() {
    auto apis = ApiVersionsExchange();
    ASSERT_TRUE(apis);
    std::map<int16_t, std::pair<int16_t, int16_t>> advertised;
    for (const auto& a : *apis) advertised[a.api_key] = {a.min_version, a.max_version};
    std::map<std::string, int> tally;
    int covered = 0;
    protocol::ForEachApi([&]<typename Request, typename Response>() {
      auto it = advertised.find(Request::kApiKey);
      if (it == advertised.end()) return;
      ++covered;
      for (int16_t version = it->second.first; version <= it->second.second; ++version) {
        for (uint64_t seed = 1; seed <= 6; ++seed) {
          const std::string what = std::string(Request::kName) + " v" + std::to_string(version) +
                                   " seed " + std::to_string(seed);
          protocol::MessageRng rng(seed * 7919 + static_cast<uint64_t>(version));
          Request request;
          protocol::FillRandom(rng, version, &request);
          // Waiting as asked is not a hang: keep requested waits short.
          if constexpr (requires { request.max_wait_ms; }) {
            request.max_wait_ms = std::clamp(request.max_wait_ms, 0, 200);
          }
          if constexpr (requires { request.timeout_ms; }) {
            request.timeout_ms = std::clamp(request.timeout_ms, 0, 200);
          }
          protocol::RequestHeader h;
          h.request_api_key = Request::kApiKey;
          h.request_api_version = version;
          h.correlation_id = 600;
          h.client_id = "bad-input-test";
          RawConnection c = Connect();
          c.Send(Concat(Framed(protocol::EncodeRequest(h, request)), ApiVersionsFrame(0, 601)));
          std::vector<uint8_t> frame;
          Outcome o = c.ReadFrame(&frame);
          if (o == Outcome::kFrame && CorrelationId(frame) == 600) {
            protocol::Reader in(frame);
            protocol::ResponseHeader rh;
            Response response;
            Status st = rh.Decode(in, protocol::ResponseHeaderVersion(Request::kApiKey, version));
            if (st.ok()) st = response.Decode(in, version);
            EXPECT_TRUE(st.ok()) << what << ": undecodable response: " << st.ToString();
            ++tally["response"];
            o = c.ReadFrame(&frame);
          }
          if (o == Outcome::kFrame) {
            EXPECT_EQ(601, CorrelationId(frame)) << what;
            ++tally["connection kept"];
          } else if (o == Outcome::kClosed) {
            ++tally["closed"];
          } else {
            ADD_FAILURE() << what << ": no response and not closed within "
                          << kReadTimeout.count() << " s";
            ++tally["hang"];
          }
        }
      }
    });
    EXPECT_EQ(static_cast<int>(advertised.size()), covered) << "an advertised API has no message type";
    std::printf("[bad-input] random well-formed requests for %d APIs:", covered);
    for (const auto& [k, v] : tally) std::printf(" %s=%d", k.c_str(), v);
    std::printf("\n");
  }

  // One raw Produce of `records` to partition 0; the partition's response.
  std::optional<protocol::ProduceResponse::PartitionProduceResponse> RawProduce(
      std::vector<uint8_t> records, int16_t version, int32_t correlation_id) {
    protocol::RequestHeader h;
    h.request_api_key = protocol::ProduceRequest::kApiKey;
    h.request_api_version = version;
    h.correlation_id = correlation_id;
    h.client_id = "bad-input-test";
    protocol::ProduceRequest request;
    request.acks = -1;
    request.timeout_ms = 10000;
    auto& topic = request.topic_data.emplace_back();
    topic.name = kTopic;
    auto& partition = topic.partition_data.emplace_back();
    partition.index = 0;
    partition.records = protocol::Records::Owned(std::move(records));
    RawConnection c = Connect();
    if (!c.Send(Framed(protocol::EncodeRequest(h, request)))) {
      ADD_FAILURE() << "send failed";
      return std::nullopt;
    }
    std::vector<uint8_t> frame;
    Outcome o = c.ReadFrame(&frame);
    if (o != Outcome::kFrame) {
      ADD_FAILURE() << "Produce v" << version << ": " << Name(o);
      return std::nullopt;
    }
    protocol::Reader in(frame);
    protocol::ResponseHeader rh;
    protocol::ProduceResponse response;
    Status s = rh.Decode(in, protocol::ResponseHeaderVersion(0, version));
    if (s.ok()) s = response.Decode(in, version);
    if (!s.ok() || rh.correlation_id != correlation_id || response.responses.size() != 1 ||
        response.responses[0].partition_responses.size() != 1) {
      ADD_FAILURE() << "bad Produce response: " << s.ToString();
      return std::nullopt;
    }
    return response.responses[0].partition_responses[0];
  }

  // Step 6: corrupt record batches are refused and write nothing.
  void CorruptBatches() {
    std::vector<std::string> values = {"raw-0", "raw-1", "raw-2"};
    model::RecordBatchBuilder builder;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (const auto& v : values) builder.Add(now, std::nullopt, model::AsBytes(v));
    auto built = builder.Build();
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    const std::vector<uint8_t> good = *built;
    ASSERT_TRUE(model::VerifyBatchCrc(good));
    const int64_t hw = HighWatermark();
    ASSERT_EQ(static_cast<int64_t>(known_.size()), hw);

    struct Bad {
      std::string what;
      std::vector<uint8_t> bytes;
      bool must_be_corrupt;
    };
    std::vector<Bad> bad;
    {
      auto b = good;
      b[model::batch_layout::kCrc] ^= 0x01;
      bad.push_back({"crc field flipped", b, true});
    }
    {
      auto b = good;
      b.back() ^= 0x40;
      bad.push_back({"last record byte flipped", b, true});
    }
    {
      auto b = good;
      b[model::batch_layout::kCrc + 6] ^= 0x01;  // Inside the CRC-covered header (attributes/offset delta).
      bad.push_back({"header byte flipped", b, true});
    }
    bad.push_back({"truncated by 5", std::vector<uint8_t>(good.begin(), good.end() - 5), false});
    bad.push_back({"header only", std::vector<uint8_t>(good.begin(), good.begin() + 61), false});
    {
      auto b = Concat(good, good);
      b[good.size() + model::batch_layout::kCrc] ^= 0x01;
      bad.push_back({"good batch then bad-CRC batch", b, false});
    }
    std::mt19937_64 rng(9);
    bad.push_back({"random bytes", RandomBytes(rng, 200), false});

    int32_t correlation = 700;
    for (int16_t version : {int16_t{3}, int16_t{9}}) {
      for (const Bad& b : bad) {
        SCOPED_TRACE(b.what + " (Produce v" + std::to_string(version) + ")");
        auto r = RawProduce(b.bytes, version, ++correlation);
        ASSERT_TRUE(r);
        if (b.must_be_corrupt) {
          EXPECT_EQ(kCorruptMessage, r->error_code);
        } else {
          EXPECT_NE(0, r->error_code);
        }
        EXPECT_EQ(hw, HighWatermark()) << "a refused batch was written";
      }
    }
    // The same batch, intact, over the same path: accepted (so the refusals
    // above were about the corruption, not the request).
    auto r = RawProduce(good, 9, ++correlation);
    ASSERT_TRUE(r);
    EXPECT_EQ(0, r->error_code);
    EXPECT_EQ(hw, r->base_offset);
    EXPECT_EQ(hw + 3, HighWatermark());
    if (r->error_code == 0) known_.insert(known_.end(), values.begin(), values.end());
  }

  // Step 7: a thousand connections opened and dropped.
  void ConnectionChurn() {
    const pid_t pid = broker_.pid();
    const size_t fds_before = OpenFds(pid);
    const int64_t rss_before = ProcStatusKb(pid, "VmRSS:");
    std::mt19937_64 rng(10);
    const std::vector<uint8_t> api_versions = ApiVersionsFrame(3, 1);
    for (int batch = 0; batch < 10; ++batch) {
      std::vector<RawConnection> open;
      for (int i = 0; i < 100; ++i) {
        RawConnection c = Connect();
        switch (i % 6) {
          case 0: break;                                      // Nothing at all.
          case 1: c.Send(std::span(api_versions).first(2)); break;
          case 2: c.Send(Concat(Prefix(5000), RandomBytes(rng, 100))); break;
          case 3: c.Send(api_versions); break;                // Never reads the answer.
          case 4: c.Send(Concat(api_versions, std::span(api_versions).first(7))); break;
          case 5: c.Send(RandomBytes(rng, 1 + rng() % 300)); break;
        }
        if (i % 3 == 0) {
          c.Reset();
        } else if (i % 3 == 1) {
          c.Close();
        } else {
          open.push_back(std::move(c));
        }
      }
      for (size_t i = 0; i < open.size(); ++i) {
        if (i % 2) open[i].Reset();
      }
      open.clear();
    }
    ASSERT_TRUE(ApiVersionsExchange(5s));
    // Every dropped connection is released.
    size_t fds_after = OpenFds(pid);
    for (auto deadline = Clock::now() + 10s; fds_after > fds_before + 4 && Clock::now() < deadline;) {
      std::this_thread::sleep_for(100ms);
      fds_after = OpenFds(pid);
    }
    const int64_t rss_after = ProcStatusKb(pid, "VmRSS:");
    std::printf("[bad-input] churn: broker fds %zu -> %zu, RSS %lld -> %lld kB\n", fds_before,
                fds_after, static_cast<long long>(rss_before), static_cast<long long>(rss_after));
    EXPECT_LE(fds_after, fds_before + 4) << "connections leaked";
  }

  BrokerProcess broker_;
  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::vector<std::string> known_;  // Values at offsets 0.. of partition 0.
};

TEST_F(BadInputTest, BrokerSurvivesHostileInput) {
  ASSERT_FALSE(HasFatalFailure());
  const pid_t pid = broker_.pid();
  const auto test_start = Clock::now();
  auto step = [&](const char* name, auto&& fn) {
    SCOPED_TRACE(name);
    const auto start = Clock::now();
    fn();
    std::printf("[bad-input] %-24s %6lld ms\n", name,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           Clock::now() - start)
                                           .count()));
    std::fflush(stdout);
    ASSERT_TRUE(Alive(pid)) << "broker died during " << name << "\n" << Tail(broker_.output());
    ASSERT_TRUE(ApiVersionsExchange(5s)) << "broker stopped answering after " << name;
  };
  step("random input", [&] { RandomInput(); });
  step("truncated frames", [&] { TruncatedFrames(); });
  step("huge length prefixes", [&] { HugeLengthPrefixes(); });
  step("unknown apis/versions", [&] { UnknownApisAndVersions(); });
  step("garbage bodies", [&] { GarbageBodies(); });
  step("random well-formed", [&] { RandomWellFormedRequests(); });
  step("corrupt batches", [&] { CorruptBatches(); });
  step("connection churn", [&] { ConnectionChurn(); });
  ASSERT_FALSE(HasFatalFailure());

  // Still alive, still serving: producing more works, and a fresh client
  // reads everything back. (Produce first: a consumer long-poll completed by a
  // later produce hits a TimerThread use-after-free under ASan, see
  // LongPollFetchCompletedByProduce below.)
  ASSERT_TRUE(Alive(pid));
  producer_.reset();
  KafkaClient fresh(broker_.host() + ":" + std::to_string(broker_.port()));
  producer_ = fresh.MakeProducer({{"acks", "all"}});
  ProduceKnown(*producer_, "after", 20);
  auto got = fresh.ConsumePartition(kTopic, 0, known_.size());
  ASSERT_EQ(known_.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(static_cast<int64_t>(i), got[i].offset);
    EXPECT_EQ(known_[i], got[i].value) << "offset " << i;
  }
  producer_.reset();

  auto stopped = broker_.Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(0, *stopped) << Tail(broker_.output());
  std::printf("[bad-input] total %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - test_start)
                      .count()));
  const std::string out = broker_.output();
  if (std::getenv("BAD_INPUT_DUMP")) std::fputs(out.c_str(), stderr);  // Why each was closed.
  const size_t threw = out.find("request handler threw");
  EXPECT_EQ(std::string::npos, threw) << out.substr(threw == std::string::npos ? 0 : threw, 300);
}

// A long-polling fetch answered by a produce cancels its deadline timer
// while the timer thread may be waiting on it (once a use-after-free).
TEST(LongPollTest, FetchCompletedByProduceManyTimes) {
  BrokerProcess broker;
  BrokerProcessOptions options;
  options.overrides = {"sluice.metrics.listener=127.0.0.1:0"};
  Status started = broker.Start(options);
  ASSERT_TRUE(started.ok()) << started.ToString();
  const std::optional<MetricsEndpoint> metrics = FindMetricsEndpoint(broker.output());
  ASSERT_TRUE(metrics) << broker.output();
  auto fetches_waiting = [&] {
    std::optional<std::string> text = FetchMetrics(*metrics);
    if (!text) return -1.0;
    auto parsed = ParseExposition(*text);
    auto it = parsed.find("sluice_fetch_waiting");
    return it == parsed.end() ? -1.0 : it->second;
  };
  KafkaClient client(broker.host() + ":" + std::to_string(broker.port()));
  ASSERT_EQ(0, client.CreateTopic("long-poll", 1));
  auto producer = client.MakeProducer({{"acks", "all"}, {"linger.ms", "0"}});
  for (int i = 0; i < 10; ++i) {
    // The last consumer's fetch sent just before it closed waits out its
    // max wait: let it go, so that the wait below sees this one's.
    ASSERT_TRUE(WaitUntil([&] { return fetches_waiting() == 0; }, std::chrono::seconds(20)))
        << fetches_waiting();
    std::vector<ConsumedMessage> got;
    std::thread consumer([&] {
      got = client.ConsumeAll("long-poll", 1, static_cast<size_t>(i + 1), std::chrono::seconds(20),
                              {{"fetch.wait.max.ms", "3000"}});
    });
    // The consumer's fetch is parked at the broker, waiting for data.
    // (Not ASSERT: the consumer thread must be joined.)
    EXPECT_TRUE(WaitUntil([&] { return fetches_waiting() >= 1; }, std::chrono::seconds(20)))
        << fetches_waiting();
    EXPECT_EQ(RdKafka::ERR_NO_ERROR,
              ProduceSync(*producer, "long-poll", 0, std::nullopt, "m" + std::to_string(i)).err);
    consumer.join();
    ASSERT_EQ(static_cast<size_t>(i + 1), got.size());
  }
  producer.reset();
  auto stopped = broker.Stop();
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(0, *stopped) << broker.output();
  EXPECT_EQ(std::string::npos, broker.output().find("AddressSanitizer")) << broker.output();
}

}  // namespace
}  // namespace sluice::testing
