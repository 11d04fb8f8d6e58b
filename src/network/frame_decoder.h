// FrameDecoder: splits a TCP byte stream into Kafka frames (a 4-byte
// big-endian length, then that many bytes). Pure: no I/O, so it is tested
// byte by byte. Not thread-safe; one per connection.
//
// The length is validated before anything is allocated: negative lengths and
// lengths above max_frame_bytes are errors (the connection is then closed).
// While a frame body is incomplete the caller may read the socket straight
// into body_remaining(), so large requests are not copied twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/status.h"
#include "network/frame.h"

namespace sluice::network {

class FrameDecoder {
 public:
  explicit FrameDecoder(int32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  struct Step {
    size_t consumed = 0;          // Bytes of the input used.
    std::optional<Frame> frame;   // Set when a frame completed.
  };

  // Consumes bytes from `in` until one frame completes or the input is used
  // up. InvalidArgument on a bad length prefix; the decoder is then unusable.
  Result<Step> Next(std::span<const uint8_t> in);

  // The unfilled tail of the frame being read; empty at a frame boundary or
  // while the length prefix is incomplete.
  std::span<uint8_t> body_remaining();
  // Records that `n` bytes were written into body_remaining(); returns the
  // frame if it is now complete.
  std::optional<Frame> BodyFilled(size_t n);

  // True when no partial length prefix or body is buffered.
  bool at_boundary() const { return header_have_ == 0 && !body_; }
  // Total bytes allocated for frame bodies so far (tests check oversized
  // prefixes allocate nothing).
  uint64_t bytes_allocated() const { return bytes_allocated_; }

 private:
  Status StartBody();

  const int32_t max_frame_bytes_;
  uint8_t header_[4] = {};
  size_t header_have_ = 0;
  std::optional<Frame> body_;
  size_t body_have_ = 0;
  uint64_t bytes_allocated_ = 0;
};

}  // namespace sluice::network
