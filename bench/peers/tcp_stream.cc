#include "tcp_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace sluice::bench {

namespace {

// Drops the consumed front of a buffer: at once when nothing else is left,
// else only once it frees a good deal, as the erase moves what follows.
void Compact(std::string* buffer, size_t* consumed) {
  if (*consumed == buffer->size()) {
    buffer->clear();
    *consumed = 0;
  } else if (*consumed > (1u << 20)) {
    buffer->erase(0, *consumed);
    *consumed = 0;
  }
}

}  // namespace

TcpStream::~TcpStream() {
  if (fd_ >= 0) ::close(fd_);
}

bool TcpStream::Fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

std::string TcpStream::Connect(const std::string& host_port) {
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
  // The load generators batch their own writes; Nagle would only add delay.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  return "";
}

bool TcpStream::Flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return Fail(std::string("send: ") + std::strerror(errno));
    out_pos_ += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  Compact(&out_, &out_pos_);
  return true;
}

bool TcpStream::WaitAndRead(int timeout_ms) {
  if (!error_.empty()) return false;
  pollfd p{fd_, static_cast<short>(POLLIN | (queued_bytes() > 0 ? POLLOUT : 0)), 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r < 0 && errno != EINTR) return Fail(std::string("poll: ") + std::strerror(errno));
  if (r > 0 && (p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLIN) == 0) {
    return Fail("connection closed by the " + peer_);
  }
  if (r > 0 && (p.revents & POLLIN) != 0) return ReadAvailable();
  return true;
}

bool TcpStream::ReadAvailable() {
  // Here, not in Consume: views from input() stay valid until the next read.
  Compact(&in_, &in_pos_);
  char buf[64 * 1024];  // The answers are small: a copy costs nothing here.
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n == 0) return Fail("connection closed by the " + peer_);
    if (n < 0) return Fail(std::string("recv: ") + std::strerror(errno));
    in_.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) return true;
  }
}

}  // namespace sluice::bench
