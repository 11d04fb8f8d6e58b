#include "fake_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "interbroker/message_conversion.h"
#include "protocol/error_code.h"
#include "protocol/header.h"

namespace sluice::interbroker {
namespace {

bool ReadExactly(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteAll(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t w = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    bytes = bytes.subspan(static_cast<size_t>(w));
  }
  return true;
}

// Reads until the client closes its end (true) or the test stops us (false).
bool ReadUntilClosed(int fd) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return true;
    if (r < 0) return false;
  }
}

template <typename Req>
bool DecodeBody(protocol::Reader& in, int16_t version, Req* body) {
  const Status s = body->Decode(in, version);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(in.remaining(), 0u);
  return s.ok() && in.remaining() == 0;
}

template <typename Resp>
std::vector<uint8_t> ResponseFrame(int32_t correlation_id, int16_t version, const Resp& body) {
  return protocol::FlattenInMemory(protocol::EncodeResponseFrame(correlation_id, version, body));
}

}  // namespace

FakeBroker::FakeBroker(Policy policy, bool listen) : policy_(std::move(policy)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(listen_fd_, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(0, bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  socklen_t len = sizeof(addr);
  EXPECT_EQ(0, getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len));
  port_ = ntohs(addr.sin_port);
  if (listen) Listen();
}

FakeBroker::~FakeBroker() {
  Stop();
  close(listen_fd_);
}

void FakeBroker::Listen() {
  ASSERT_FALSE(thread_.joinable());
  ASSERT_EQ(0, listen(listen_fd_, 8));
  thread_ = std::thread([this] { AcceptLoop(); });
}

void FakeBroker::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    // Wakes accept() and a connection's recv().
    shutdown(listen_fd_, SHUT_RDWR);
    if (conn_fd_ >= 0) shutdown(conn_fd_, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

std::string FakeBroker::endpoint(const std::string& listener) const {
  return listener + "://127.0.0.1:" + std::to_string(port_);
}

void FakeBroker::AcceptLoop() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && errno == EINTR) continue;
    if (fd < 0) return;  // Stop() shut the socket down.
    int connection;
    {
      MutexLock lock(&mu_);
      if (stopping_) {
        close(fd);
        return;
      }
      conn_fd_ = fd;
      connection = ++connections_;
    }
    changed_.SignalAll();
    Serve(fd, connection);
    {
      MutexLock lock(&mu_);
      conn_fd_ = -1;
    }
    close(fd);
  }
}

void FakeBroker::Serve(int fd, int connection) {
  for (size_t n = 0;; ++n) {
    ReceivedRequest request;
    if (!ReadRequest(fd, connection, &request)) return;
    size_t index;
    {
      MutexLock lock(&mu_);
      index = received_.size();
      received_.push_back(request);
    }
    changed_.SignalAll();
    const Action action = policy_ ? policy_(index, request) : Action::kAnswer;
    switch (action) {
      case Action::kAnswer:
        Answer(fd, request, 0);
        break;
      case Action::kAnswerError:
        Answer(fd, request, protocol::ToWire(protocol::ErrorCode::STALE_CONTROLLER_EPOCH));
        break;
      case Action::kClose:
        return;
      case Action::kNeverAnswer:
        if (ReadUntilClosed(fd)) {
          {
            MutexLock lock(&mu_);
            // Stop()'s shutdown also reads as an end of stream.
            if (!stopping_) ++closed_by_client_;
          }
          changed_.SignalAll();
        }
        return;
    }
  }
}

bool FakeBroker::ReadRequest(int fd, int connection, ReceivedRequest* out) {
  uint8_t size[4];
  if (!ReadExactly(fd, size, 4)) {
    {
      MutexLock lock(&mu_);
      if (!stopping_) ++closed_by_client_;
    }
    changed_.SignalAll();
    return false;
  }
  const int32_t n = LoadBigEndian<int32_t>(size);
  EXPECT_GT(n, 0);
  EXPECT_LT(n, 64 << 20);
  if (n <= 0 || n >= (64 << 20)) return false;
  std::vector<uint8_t> frame(static_cast<size_t>(n));
  if (!ReadExactly(fd, frame.data(), frame.size())) return false;

  protocol::Reader in(frame);
  protocol::RequestHeader header;
  const Status s = protocol::DecodeRequestHeader(in, &header);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return false;
  out->connection = connection;
  out->api_key = header.request_api_key;
  out->api_version = header.request_api_version;
  out->correlation_id = header.correlation_id;
  out->client_id = header.client_id.value_or("");
  switch (header.request_api_key) {
    case protocol::LeaderAndIsrRequest::kApiKey: {
      protocol::LeaderAndIsrRequest body;
      if (!DecodeBody(in, header.request_api_version, &body)) return false;
      out->leader_and_isr = FromWire(body, "INTERNAL");
      out->controller_epoch = body.controller_epoch;
      return true;
    }
    case protocol::UpdateMetadataRequest::kApiKey: {
      protocol::UpdateMetadataRequest body;
      if (!DecodeBody(in, header.request_api_version, &body)) return false;
      out->update_metadata = FromWire(body);
      out->controller_epoch = body.controller_epoch;
      return true;
    }
    case protocol::StopReplicaRequest::kApiKey: {
      protocol::StopReplicaRequest body;
      if (!DecodeBody(in, header.request_api_version, &body)) return false;
      out->stop_replica = FromWire(body);
      out->controller_epoch = body.controller_epoch;
      return true;
    }
    default:
      ADD_FAILURE() << "unexpected api key " << header.request_api_key;
      return false;
  }
}

void FakeBroker::Answer(int fd, const ReceivedRequest& request, int16_t error_code) {
  std::vector<uint8_t> frame;
  if (request.leader_and_isr) {
    protocol::LeaderAndIsrResponse r;
    r.error_code = error_code;
    for (const auto& p : request.leader_and_isr->partitions) {
      if (r.topics.empty() || r.topics.back().topic_id != ToWire(p.topic_id)) {
        r.topics.push_back({.topic_id = ToWire(p.topic_id)});
      }
      r.topics.back().partition_errors.push_back({.partition_index = p.partition});
    }
    frame = ResponseFrame(request.correlation_id, request.api_version, r);
  } else if (request.update_metadata) {
    protocol::UpdateMetadataResponse r;
    r.error_code = error_code;
    frame = ResponseFrame(request.correlation_id, request.api_version, r);
  } else {
    protocol::StopReplicaResponse r;
    r.error_code = error_code;
    for (const auto& p : request.stop_replica->partitions) {
      r.partition_errors.push_back({.topic_name = p.topic, .partition_index = p.partition});
    }
    frame = ResponseFrame(request.correlation_id, request.api_version, r);
  }
  WriteAll(fd, frame);
}

std::vector<ReceivedRequest> FakeBroker::received() const {
  MutexLock lock(&mu_);
  return received_;
}

int FakeBroker::connections() const {
  MutexLock lock(&mu_);
  return connections_;
}

int FakeBroker::closed_by_client() const {
  MutexLock lock(&mu_);
  return closed_by_client_;
}

bool FakeBroker::WaitForRequests(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (received_.size() < n) {
    if (!changed_.WaitUntil(&mu_, deadline) && received_.size() < n) return false;
  }
  return true;
}

bool FakeBroker::WaitForClientClose(int n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (closed_by_client_ < n) {
    if (!changed_.WaitUntil(&mu_, deadline) && closed_by_client_ < n) return false;
  }
  return true;
}

}  // namespace sluice::interbroker
