#include "fake_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <gtest/gtest.h>

#include "base/endian.h"

namespace sluice::rpc {

FakePeer::FakePeer(Script script) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(listen_fd_, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(0, bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  EXPECT_EQ(0, listen(listen_fd_, 4));
  socklen_t len = sizeof(addr);
  EXPECT_EQ(0, getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len));
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([fd = listen_fd_, script = std::move(script)] {
    int conn;
    do {
      conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    } while (conn < 0 && errno == EINTR);
    if (conn < 0) return;  // The test never connected (shutdown below).
    script(conn);
    close(conn);
  });
}

FakePeer::~FakePeer() {
  Join();
  close(listen_fd_);
}

void FakePeer::Join() {
  if (!thread_.joinable()) return;
  // Wakes an accept() still waiting (a test that never connected).
  shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
}

static bool ReadExactly(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool ReadFrame(int fd, std::vector<uint8_t>* frame) {
  uint8_t size[4];
  if (!ReadExactly(fd, size, 4)) return false;
  const int32_t n = LoadBigEndian<int32_t>(size);
  if (n < 0 || n > (64 << 20)) return false;
  frame->resize(static_cast<size_t>(n));
  return ReadExactly(fd, frame->data(), frame->size());
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

void ReadUntilClosed(int fd) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
  }
}

std::vector<uint8_t> Framed(std::span<const uint8_t> body) {
  std::vector<uint8_t> out(4 + body.size());
  StoreBigEndian(out.data(), static_cast<int32_t>(body.size()));
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

}  // namespace sluice::rpc
