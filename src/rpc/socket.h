// Socket: a blocking-with-deadline TCP client socket for rpc::Connection.
//
// Why plain sockets and poll() rather than the network layer's asio: the
// callers are dedicated threads that make one call at a time and wait for
// it, so a call is a straight line (connect, write, read) with a deadline,
// which poll() gives directly; there is no io_context to run or handler to
// allocate, and a ShutdownSignal polled next to the socket wakes it from
// another thread.
//
// The fd is non-blocking; every wait is a poll() on it and the signal, so
// nothing blocks past the deadline or a fired signal. EINTR is retried,
// short reads and writes continue, and writes never raise SIGPIPE.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "rpc/shutdown_signal.h"

namespace sluice::rpc {

// Why an operation failed (the Status says what happened).
enum class Failure {
  kNone,
  kIOError,   // Refused, reset, closed by the peer, unreachable, ...
  kTimeout,   // The deadline passed.
  kProtocol,  // The peer's bytes are not the answer expected (Connection).
  kShutdown,  // The ShutdownSignal fired.
};

using Deadline = std::chrono::steady_clock::time_point;

class Socket {
 public:
  // Connects to host:port (a name or a numeric address) before `deadline`.
  // Name resolution (getaddrinfo) is not bounded by the deadline.
  // Errors: kIOError (refused, unresolvable, ...), kTimeout, kShutdown;
  // see *failure.
  static Result<std::unique_ptr<Socket>> Connect(const std::string& host, int32_t port,
                                                 Deadline deadline,
                                                 std::shared_ptr<ShutdownSignal> signal,
                                                 Failure* failure);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Writes all of `first` then all of `second` before `deadline`.
  Status WriteAll(std::span<const uint8_t> first, std::span<const uint8_t> second,
                  Deadline deadline, Failure* failure);
  // Fills `out` before `deadline`; a peer that closes first is an IOError.
  Status ReadExactly(std::span<uint8_t> out, Deadline deadline, Failure* failure);

  const std::string& peer() const { return peer_; }

 private:
  Socket(int fd, std::shared_ptr<ShutdownSignal> signal, std::string peer)
      : fd_(fd), signal_(std::move(signal)), peer_(std::move(peer)) {}
  // Waits until the socket is ready for `events` (or has an error, which
  // the following send/recv reports).
  Status Wait(short events, Deadline deadline, const char* what, Failure* failure);

  const int fd_;
  const std::shared_ptr<ShutdownSignal> signal_;
  const std::string peer_;  // host:port, for messages.
};

}  // namespace sluice::rpc
