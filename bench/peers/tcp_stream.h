// The socket under the peers' load generators (kafka_bench, nats_bench): one
// IPv4 TCP connection, non-blocking once connected, with an output buffer the
// caller fills freely and writes when the socket takes it, and an input
// buffer that keeps what arrived until the caller consumes it. The protocols
// (Kafka frames, NATS lines) live in the connection classes that own one.
// Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::bench {

class TcpStream {
 public:
  // `peer` names the other end in error messages ("broker", "server").
  explicit TcpStream(std::string peer) : peer_(std::move(peer)) {}
  ~TcpStream();
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  // Connects to HOST:PORT (IPv4), then turns off Nagle and blocking. Empty on
  // success, else why.
  std::string Connect(const std::string& host_port);

  // Appends to the output; nothing is written until Flush or WaitAndRead.
  void Queue(std::string_view bytes) { out_ += bytes; }
  // Writes what the socket takes now. False on a broken connection.
  bool Flush();
  // Waits up to `timeout_ms` for input (and for room to write, if anything is
  // queued), then reads what arrived into input(). Writes nothing: the caller
  // flushes once it has answered what it read. False on a broken connection.
  bool WaitAndRead(int timeout_ms);

  // What arrived and is not consumed yet; valid until the next WaitAndRead.
  std::string_view input() const { return std::string_view(in_).substr(in_pos_); }
  void Consume(size_t bytes) { in_pos_ += bytes; }

  // Bytes queued and not yet taken by the socket, and all it has taken.
  size_t queued_bytes() const { return out_.size() - out_pos_; }
  uint64_t written() const { return written_; }

  // The first failure, by the stream or by the protocol above it.
  const std::string& error() const { return error_; }
  // Keeps `why` unless an error is already set; always false.
  bool Fail(std::string why);

 private:
  bool ReadAvailable();

  const std::string peer_;
  int fd_ = -1;
  std::string out_;
  size_t out_pos_ = 0;
  uint64_t written_ = 0;
  std::string in_;
  size_t in_pos_ = 0;
  std::string error_;
};

}  // namespace sluice::bench
