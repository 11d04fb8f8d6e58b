// Reply<Resp>: a decoded response together with the frame it was decoded
// from.
//
// Decoded `records` fields (a Fetch response's batches) are views into the
// frame, not copies, so the two travel together: the frame is one heap block
// that a move hands over without moving its bytes, and a Reply cannot be
// copied (a copy's views would point into the original's frame).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

namespace sluice::rpc {

template <typename Resp>
class Reply {
 public:
  // REQUIRES: `body` was decoded from frame[0, size) (its views point there).
  Reply(std::unique_ptr<uint8_t[]> frame, size_t size, Resp body)
      : frame_(std::move(frame)), size_(size), body_(std::move(body)) {}
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  const Resp& body() const { return body_; }
  Resp& body() { return body_; }
  const Resp* operator->() const { return &body_; }
  Resp* operator->() { return &body_; }
  // The response frame after its size prefix: header and body.
  std::span<const uint8_t> frame() const { return {frame_.get(), size_}; }

 private:
  // Declared before body_, so destroyed after it: the views never dangle.
  std::unique_ptr<uint8_t[]> frame_;
  size_t size_;
  Resp body_;
};

}  // namespace sluice::rpc
