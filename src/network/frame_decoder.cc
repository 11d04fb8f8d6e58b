#include "network/frame_decoder.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/endian.h"

namespace sluice::network {

Status FrameDecoder::StartBody() {
  const int32_t length = LoadBigEndian<int32_t>(header_);
  header_have_ = 0;
  if (length < 0) {
    return Status::InvalidArgument(fmt::format("negative frame length {}", length));
  }
  if (length > max_frame_bytes_) {
    return Status::InvalidArgument(fmt::format(
        "frame length {} exceeds socket.request.max.bytes {}", length, max_frame_bytes_));
  }
  body_.emplace(static_cast<size_t>(length));
  body_have_ = 0;
  bytes_allocated_ += static_cast<uint64_t>(length);
  return Status::Ok();
}

Result<FrameDecoder::Step> FrameDecoder::Next(std::span<const uint8_t> in) {
  Step step;
  if (!body_) {
    const size_t take = std::min(in.size(), sizeof(header_) - header_have_);
    std::memcpy(header_ + header_have_, in.data(), take);
    header_have_ += take;
    step.consumed = take;
    if (header_have_ < sizeof(header_)) return step;
    Status s = StartBody();
    if (!s.ok()) return s;
  }
  const size_t take = std::min(in.size() - step.consumed, body_->size() - body_have_);
  if (take > 0) std::memcpy(body_->data() + body_have_, in.data() + step.consumed, take);
  step.consumed += take;
  step.frame = BodyFilled(take);
  return step;
}

std::span<uint8_t> FrameDecoder::body_remaining() {
  if (!body_) return {};
  return {body_->data() + body_have_, body_->size() - body_have_};
}

std::optional<Frame> FrameDecoder::BodyFilled(size_t n) {
  if (!body_) return std::nullopt;
  body_have_ += n;
  if (body_have_ < body_->size()) return std::nullopt;
  std::optional<Frame> done = std::move(body_);
  body_.reset();
  body_have_ = 0;
  return done;
}

}  // namespace sluice::network
