#include "network/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/endian.h"

namespace sluice::network::testing {

TestClient::TestClient(uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Close();
}

TestClient::~TestClient() { Close(); }

void TestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TestClient::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool TestClient::SendRaw(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd_, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool TestClient::SendFrame(std::span<const uint8_t> body) {
  std::vector<uint8_t> buf(4 + body.size());
  StoreBigEndian<int32_t>(buf.data(), static_cast<int32_t>(body.size()));
  if (!body.empty()) std::memcpy(buf.data() + 4, body.data(), body.size());
  return SendRaw(buf.data(), buf.size());
}

bool TestClient::ReadExact(void* out, size_t size, int timeout_ms) {
  auto* p = static_cast<uint8_t*>(out);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (size > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::recv(fd_, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::vector<uint8_t>> TestClient::ReadFrame(int timeout_ms) {
  uint8_t header[4];
  if (!ReadExact(header, 4, timeout_ms)) return std::nullopt;
  const int32_t length = LoadBigEndian<int32_t>(header);
  if (length < 0) return std::nullopt;
  std::vector<uint8_t> body(static_cast<size_t>(length));
  if (length > 0 && !ReadExact(body.data(), body.size(), timeout_ms)) return std::nullopt;
  return body;
}

std::optional<std::string> TestClient::ReadFrameString(int timeout_ms) {
  auto frame = ReadFrame(timeout_ms);
  if (!frame) return std::nullopt;
  return std::string(frame->begin(), frame->end());
}

bool TestClient::WaitClosed(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET || errno == EPIPE;
  }
}

std::string EncodeFrame(const std::string& body) {
  std::string out(4 + body.size(), '\0');
  StoreBigEndian<int32_t>(reinterpret_cast<uint8_t*>(out.data()),
                          static_cast<int32_t>(body.size()));
  std::memcpy(out.data() + 4, body.data(), body.size());
  return out;
}

}  // namespace sluice::network::testing
