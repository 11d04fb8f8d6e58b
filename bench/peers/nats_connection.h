// Just enough of the NATS client protocol (text over TCP) to drive JetStream
// from the broker benchmark: handshake, SUB, PUB with a reply subject, MSG
// delivery and keep-alive. Debian packages no NATS client for C++, and the
// protocol is a handful of lines. Single-threaded; non-blocking after the
// handshake, so one loop can keep thousands of publishes in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::bench {

class NatsConnection {
 public:
  // Called for each MSG: its subject and payload (views valid during the call).
  using MessageHandler = std::function<void(std::string_view subject, std::string_view payload)>;

  NatsConnection() = default;
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Connects to HOST:PORT, reads INFO, sends CONNECT and waits for the PONG
  // of a PING (so the server has accepted us). Empty on success, else why.
  std::string Connect(const std::string& host_port, MessageHandler on_message);

  void Subscribe(std::string_view subject, int sid);
  // Queues a PUB; nothing is written until Flush() or Poll().
  void Publish(std::string_view subject, std::string_view reply, std::string_view payload);
  // Writes what the socket takes now. False on a broken connection.
  bool Flush();
  // Waits up to `timeout_ms` for input (and for room to write, if anything is
  // queued), then writes and reads what it can and hands each complete MSG to
  // the handler. False on a broken connection or a server -ERR (see error()).
  bool Poll(int timeout_ms);

  size_t queued_bytes() const { return out_.size() - out_pos_; }
  const std::string& error() const { return error_; }

 private:
  bool ReadAvailable();
  // Consumes complete protocol lines (and MSG payloads) from the input.
  bool Parse();
  bool Fail(std::string why);

  int fd_ = -1;
  MessageHandler on_message_;
  std::string out_;
  size_t out_pos_ = 0;
  std::string in_;
  size_t in_pos_ = 0;
  bool got_pong_ = false;
  std::string error_;
};

}  // namespace sluice::bench
