// FakePeer: a listening socket on 127.0.0.1 whose one accepted connection is
// served by a test's script on the peer's own thread, so that a test can
// play a broker that answers wrongly, late or never.
//
// The script gets the connected (blocking) fd and returns when it is done;
// the fd is closed after it. A script that waits for the client to go away
// (ReadUntilClosed) ends when the test destroys its Connection, so declare
// the FakePeer before the Connection.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <thread>
#include <vector>

namespace sluice::rpc {

class FakePeer {
 public:
  using Script = std::function<void(int fd)>;
  explicit FakePeer(Script script);
  ~FakePeer();  // Join()s.
  // Waits for the script to end (so that what it recorded can be read).
  void Join();
  FakePeer(const FakePeer&) = delete;
  FakePeer& operator=(const FakePeer&) = delete;

  int32_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  int32_t port_ = 0;
  std::thread thread_;
};

// Blocking helpers for scripts; false when the client closed or on error.
bool ReadFrame(int fd, std::vector<uint8_t>* frame);  // Without its size prefix.
bool WriteAll(int fd, std::span<const uint8_t> bytes);
// Reads and drops bytes until the client closes its end.
void ReadUntilClosed(int fd);
// The 4-byte big-endian size, then `body`.
std::vector<uint8_t> Framed(std::span<const uint8_t> body);

}  // namespace sluice::rpc
