#include "kafka_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "protocol/error_code.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/response_header.h"

namespace sluice::bench {

namespace {

// Kafka's default socket.request.max.bytes: a larger size prefix means the
// stream is out of step, not a big response.
constexpr int32_t kMaxFrameBytes = 100 * 1024 * 1024;

}  // namespace

KafkaConnection::~KafkaConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool KafkaConnection::Fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

std::string KafkaConnection::Connect(const std::string& host_port, std::string client_id) {
  client_id_ = std::move(client_id);
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return "expected HOST:PORT, got " + host_port;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  int port = 0;
  std::string_view port_text = std::string_view(host_port).substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port <= 0 ||
      port > 65535 ||
      ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return "expected an IPv4 HOST:PORT, got " + host_port;
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return "connect to " + host_port + ": " + std::strerror(errno);
  }
  // The load generator batches its own writes; Nagle would only add delay.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);

  // v3 first, as clients do; a broker that does not speak it answers
  // UNSUPPORTED_VERSION with its own range, and v0 is then always understood.
  for (int16_t version : {int16_t{3}, int16_t{0}}) {
    protocol::ApiVersionsRequest request;
    request.client_software_name = client_id_;
    request.client_software_version = "1";
    protocol::ApiVersionsResponse response;
    std::string err = Call(request, version, &response, 10000);
    if (!err.empty()) return "handshake with " + host_port + ": " + err;
    if (response.error_code == protocol::ToWire(protocol::ErrorCode::UNSUPPORTED_VERSION) &&
        version != 0) {
      continue;
    }
    if (response.error_code != 0) {
      return "ApiVersions: error code " + std::to_string(response.error_code);
    }
    for (const auto& api : response.api_keys) {
      broker_versions_[api.api_key] = {api.min_version, api.max_version};
    }
    return "";
  }
  return "ApiVersions: no version the broker speaks";
}

int16_t KafkaConnection::Version(int16_t api_key, int16_t at_most) const {
  const protocol::ApiInfo* ours = protocol::FindApi(api_key);
  auto theirs = broker_versions_.find(api_key);
  if (ours == nullptr || theirs == broker_versions_.end()) return -1;
  int16_t high = std::min({at_most, ours->max_version, theirs->second.second});
  int16_t low = std::max(ours->min_version, theirs->second.first);
  return high >= low ? high : int16_t{-1};
}

void KafkaConnection::Queue(std::vector<uint8_t> frame, InFlight request) {
  StoreBigEndian(frame.data(), static_cast<int32_t>(frame.size() - 4));
  if (out_pos_ == out_.size()) {
    out_ = std::move(frame);  // The common case: nothing waiting, no copy.
    out_pos_ = 0;
  } else {
    out_.insert(out_.end(), frame.begin(), frame.end());
  }
  in_flight_.push_back(request);
}

std::string KafkaConnection::Await(int timeout_ms, const ResponseHandler& on_response,
                                   const bool* answered) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!*answered) {
    if (!Poll(100, on_response)) return error_;
    if (std::chrono::steady_clock::now() > deadline) return "no response";
  }
  return "";
}

bool KafkaConnection::Flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return Fail(std::string("send: ") + std::strerror(errno));
    out_pos_ += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > (1u << 20)) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_pos_));
    out_pos_ = 0;
  }
  return true;
}

bool KafkaConnection::Poll(int timeout_ms, const ResponseHandler& on_response) {
  if (!error_.empty()) return false;
  if (!Flush()) return false;  // Before waiting: the request may be what the wait is for.
  pollfd p{fd_, static_cast<short>(POLLIN | (out_pos_ < out_.size() ? POLLOUT : 0)), 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r < 0 && errno != EINTR) return Fail(std::string("poll: ") + std::strerror(errno));
  if (r > 0 && (p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLIN) == 0) {
    return Fail("connection closed by the broker");
  }
  if (r > 0 && (p.revents & POLLIN) != 0 && !ReadAvailable()) return false;
  if (!Parse(on_response)) return false;
  return Flush();
}

bool KafkaConnection::ReadAvailable() {
  uint8_t buf[64 * 1024];  // Produce responses are small: a copy costs nothing here.
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n == 0) return Fail("connection closed by the broker");
    if (n < 0) return Fail(std::string("recv: ") + std::strerror(errno));
    in_.insert(in_.end(), buf, buf + n);
    if (static_cast<size_t>(n) < sizeof buf) return true;
  }
}

bool KafkaConnection::Parse(const ResponseHandler& on_response) {
  protocol::ResponseHeader header;
  while (in_.size() - in_pos_ >= 4) {
    int32_t size = LoadBigEndian<int32_t>(in_.data() + in_pos_);
    if (size < 4 || size > kMaxFrameBytes) {
      return Fail("bad response frame size " + std::to_string(size));
    }
    if (in_.size() - in_pos_ - 4 < static_cast<size_t>(size)) break;  // Not all here yet.
    if (in_flight_.empty()) return Fail("a response to no request");
    InFlight request = in_flight_.front();
    in_flight_.pop_front();
    protocol::Reader in({in_.data() + in_pos_ + 4, static_cast<size_t>(size)});
    Status s = header.Decode(in, protocol::ResponseHeaderVersion(request.api_key, request.version));
    if (!s.ok()) return Fail("response header: " + s.ToString());
    if (header.correlation_id != request.correlation_id) {
      return Fail("response " + std::to_string(header.correlation_id) + " where " +
                  std::to_string(request.correlation_id) + " was due (out of order)");
    }
    in_pos_ += 4 + static_cast<size_t>(size);
    on_response(request.correlation_id, in);
  }
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > (1u << 20)) {
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_pos_));
    in_pos_ = 0;
  }
  return true;
}

}  // namespace sluice::bench
