// ShutdownSignal: a one-shot flag that wakes every blocked Connect or Call
// polling it, from any thread.
//
// A broker's sending threads (controller-to-broker channels, follower
// fetchers) block in rpc::Connection for up to a timeout. Stopping such a
// thread must not wait that long: its owner fires the signal, and every
// Connect and Call that uses it returns kAborted at once, now and later. Share
// one signal between the connections a thread makes in turn, so that a
// reconnect after the stop fails fast too.
#pragma once

#include <atomic>
#include <memory>

#include "base/status.h"

namespace sluice::rpc {

class ShutdownSignal {
 public:
  static Result<std::shared_ptr<ShutdownSignal>> Create();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Thread-safe, idempotent, never blocks.
  void Fire();
  bool fired() const { return fired_.load(std::memory_order_acquire); }
  // Readable (POLLIN) once fired, forever: poll it next to a socket.
  int fd() const { return fd_; }

 private:
  explicit ShutdownSignal(int fd) : fd_(fd) {}

  const int fd_;  // An eventfd, written once and never read.
  std::atomic<bool> fired_{false};
};

}  // namespace sluice::rpc
