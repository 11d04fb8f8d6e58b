#include "nats_connection.h"

#include <charconv>
#include <chrono>
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

std::string NatsConnection::Connect(const std::string& host_port, MessageHandler on_message) {
  on_message_ = std::move(on_message);
  if (std::string err = stream_.Connect(host_port); !err.empty()) return err;

  // No headers: acknowledgements come back as plain MSGs.
  stream_.Queue(R"(CONNECT {"verbose":false,"pedantic":false,"tls_required":false,)"
                R"("name":"nats_bench","lang":"cpp","version":"1","protocol":1,"headers":false})"
                "\r\nPING\r\n");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!got_pong_) {
    if (!Poll(100)) return "handshake with " + host_port + ": " + stream_.error();
    if (std::chrono::steady_clock::now() > deadline) return "no PONG from " + host_port;
  }
  return "";
}

void NatsConnection::Subscribe(std::string_view subject, int sid) {
  stream_.Queue("SUB ");
  stream_.Queue(subject);
  stream_.Queue(" ");
  stream_.Queue(std::to_string(sid));
  stream_.Queue(kCrlf);
}

void NatsConnection::Publish(std::string_view subject, std::string_view reply,
                             std::string_view payload) {
  stream_.Queue("PUB ");
  stream_.Queue(subject);
  if (!reply.empty()) {
    stream_.Queue(" ");
    stream_.Queue(reply);
  }
  stream_.Queue(" ");
  stream_.Queue(std::to_string(payload.size()));
  stream_.Queue(kCrlf);
  stream_.Queue(payload);
  stream_.Queue(kCrlf);
}

bool NatsConnection::Poll(int timeout_ms) {
  if (!stream_.WaitAndRead(timeout_ms)) return false;
  if (!Parse()) return false;
  return stream_.Flush();  // Also sends the PONGs Parse() queued.
}

bool NatsConnection::Parse() {
  for (;;) {
    std::string_view input = stream_.input();
    size_t eol = input.find(kCrlf);
    if (eol == std::string_view::npos) break;
    std::string_view line = input.substr(0, eol);
    size_t next = eol + kCrlf.size();
    if (line.starts_with("MSG ")) {
      // MSG <subject> <sid> [reply-to] <#bytes>
      std::vector<std::string_view> t = Tokens(line);
      if (t.size() < 4) return stream_.Fail("bad MSG line: " + std::string(line));
      size_t bytes = 0;
      std::string_view count = t.back();
      auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), bytes);
      if (ec != std::errc() || end != count.data() + count.size()) {
        return stream_.Fail("bad MSG line: " + std::string(line));
      }
      if (input.size() < next + bytes + kCrlf.size()) break;  // Payload not all here yet.
      on_message_(t[1], input.substr(next, bytes));
      next += bytes + kCrlf.size();
    } else if (line == "PING") {
      stream_.Queue("PONG\r\n");
    } else if (line == "PONG") {
      got_pong_ = true;
    } else if (line.starts_with("-ERR")) {
      return stream_.Fail("server: " + std::string(line));
    } else if (!line.starts_with("INFO") && line != "+OK") {
      return stream_.Fail("unexpected from the server: " + std::string(line.substr(0, 200)));
    }
    stream_.Consume(next);
  }
  return true;
}

}  // namespace sluice::bench
