#include "nats_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <vector>

namespace sluice::bench {

namespace {

constexpr std::string_view kCrlf = "\r\n";

std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

NatsConnection::~NatsConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool NatsConnection::Fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

std::string NatsConnection::Connect(const std::string& host_port, MessageHandler on_message) {
  on_message_ = std::move(on_message);
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
  // The benchmark batches its own writes; Nagle would only add delay.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);

  // No headers: acknowledgements come back as plain MSGs.
  out_ += R"(CONNECT {"verbose":false,"pedantic":false,"tls_required":false,)"
          R"("name":"nats_bench","lang":"cpp","version":"1","protocol":1,"headers":false})";
  out_ += "\r\nPING\r\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!got_pong_) {
    if (!Poll(100)) return "handshake with " + host_port + ": " + error_;
    if (std::chrono::steady_clock::now() > deadline) return "no PONG from " + host_port;
  }
  return "";
}

void NatsConnection::Subscribe(std::string_view subject, int sid) {
  out_ += "SUB ";
  out_ += subject;
  out_ += ' ';
  out_ += std::to_string(sid);
  out_ += kCrlf;
}

void NatsConnection::Publish(std::string_view subject, std::string_view reply,
                             std::string_view payload) {
  out_ += "PUB ";
  out_ += subject;
  if (!reply.empty()) {
    out_ += ' ';
    out_ += reply;
  }
  out_ += ' ';
  out_ += std::to_string(payload.size());
  out_ += kCrlf;
  out_ += payload;
  out_ += kCrlf;
}

bool NatsConnection::Flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return Fail(std::string("send: ") + std::strerror(errno));
    out_pos_ += static_cast<size_t>(n);
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > (1u << 20)) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  return true;
}

bool NatsConnection::Poll(int timeout_ms) {
  if (!error_.empty()) return false;
  pollfd p{fd_, static_cast<short>(POLLIN | (queued_bytes() > 0 ? POLLOUT : 0)), 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r < 0 && errno != EINTR) return Fail(std::string("poll: ") + std::strerror(errno));
  if (r > 0 && (p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLIN) == 0) {
    return Fail("connection closed by the server");
  }
  if (r > 0 && (p.revents & POLLIN) != 0 && !ReadAvailable()) return false;
  if (!Parse()) return false;
  return Flush();  // Also sends the PONGs Parse() queued.
}

bool NatsConnection::ReadAvailable() {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n == 0) return Fail("connection closed by the server");
    if (n < 0) return Fail(std::string("recv: ") + std::strerror(errno));
    in_.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) return true;
  }
}

bool NatsConnection::Parse() {
  for (;;) {
    size_t eol = in_.find(kCrlf, in_pos_);
    if (eol == std::string::npos) break;
    std::string_view line(in_.data() + in_pos_, eol - in_pos_);
    size_t next = eol + kCrlf.size();
    if (line.starts_with("MSG ")) {
      // MSG <subject> <sid> [reply-to] <#bytes>
      std::vector<std::string_view> t = Tokens(line);
      if (t.size() < 4) return Fail("bad MSG line: " + std::string(line));
      size_t bytes = 0;
      std::string_view count = t.back();
      auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), bytes);
      if (ec != std::errc() || end != count.data() + count.size()) {
        return Fail("bad MSG line: " + std::string(line));
      }
      if (in_.size() < next + bytes + kCrlf.size()) break;  // Payload not all here yet.
      on_message_(t[1], std::string_view(in_.data() + next, bytes));
      next += bytes + kCrlf.size();
    } else if (line == "PING") {
      out_ += "PONG\r\n";
    } else if (line == "PONG") {
      got_pong_ = true;
    } else if (line.starts_with("-ERR")) {
      return Fail("server: " + std::string(line));
    } else if (!line.starts_with("INFO") && line != "+OK") {
      return Fail("unexpected from the server: " + std::string(line.substr(0, 200)));
    }
    in_pos_ = next;
  }
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > (1u << 20)) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  return true;
}

}  // namespace sluice::bench
