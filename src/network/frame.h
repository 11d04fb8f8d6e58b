// Frame: the bytes of one Kafka request, without its 4-byte length prefix.
// Owns its buffer; move-only. The buffer is allocated uninitialised and only
// after the length has been checked against socket.request.max.bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace sluice::network {

class Frame {
 public:
  Frame() = default;
  explicit Frame(size_t size)
      : data_(size > 0 ? std::make_unique_for_overwrite<uint8_t[]>(size) : nullptr), size_(size) {}

  Frame(Frame&&) noexcept = default;
  Frame& operator=(Frame&&) noexcept = default;
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

}  // namespace sluice::network
