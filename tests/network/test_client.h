// A blocking TCP client speaking length-prefixed frames, for network tests.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sluice::network::testing {

class TestClient {
 public:
  // Connects to 127.0.0.1:port; receive_buffer > 0 sets SO_RCVBUF first.
  explicit TestClient(uint16_t port, int receive_buffer = 0);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool SendRaw(const void* data, size_t size);
  bool SendFrame(std::span<const uint8_t> body);
  bool SendFrame(const std::string& body) {
    return SendFrame({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  }
  // Reads exactly `size` bytes; false on EOF, error or timeout.
  bool ReadExact(void* out, size_t size, int timeout_ms = 10000);
  // One frame body; nullopt on EOF, error or timeout.
  std::optional<std::vector<uint8_t>> ReadFrame(int timeout_ms = 10000);
  std::optional<std::string> ReadFrameString(int timeout_ms = 10000);
  // True once the server has closed the connection (EOF or reset) within the
  // timeout; bytes still arriving are discarded.
  bool WaitClosed(int timeout_ms = 5000);
  void ShutdownWrite();
  void Close();

 private:
  int fd_ = -1;
};

std::string EncodeFrame(const std::string& body);

}  // namespace sluice::network::testing
