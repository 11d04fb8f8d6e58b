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

#include "tcp_stream.h"

namespace sluice::bench {

class NatsConnection {
 public:
  // Called for each MSG: its subject and payload (views valid during the call).
  using MessageHandler = std::function<void(std::string_view subject, std::string_view payload)>;

  NatsConnection() = default;
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Connects to HOST:PORT, reads INFO, sends CONNECT and waits for the PONG
  // of a PING (so the server has accepted us). Empty on success, else why.
  std::string Connect(const std::string& host_port, MessageHandler on_message);

  void Subscribe(std::string_view subject, int sid);
  // Queues a PUB; nothing is written until Flush() or Poll().
  void Publish(std::string_view subject, std::string_view reply, std::string_view payload);
  // Writes what the socket takes now. False on a broken connection.
  bool Flush() { return stream_.Flush(); }
  // Waits up to `timeout_ms` for input (and for room to write, if anything is
  // queued), then writes and reads what it can and hands each complete MSG to
  // the handler. False on a broken connection or a server -ERR (see error()).
  bool Poll(int timeout_ms);

  size_t queued_bytes() const { return stream_.queued_bytes(); }
  const std::string& error() const { return stream_.error(); }

 private:
  // Consumes complete protocol lines (and MSG payloads) from the input.
  bool Parse();

  TcpStream stream_{"server"};
  MessageHandler on_message_;
  bool got_pong_ = false;
};

}  // namespace sluice::bench
