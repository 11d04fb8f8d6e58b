#include "network/frame_decoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/endian.h"

namespace sluice::network {
namespace {

std::vector<uint8_t> Framed(const std::string& body, int32_t length = -2) {
  std::vector<uint8_t> out(4 + body.size());
  StoreBigEndian<int32_t>(out.data(), length == -2 ? static_cast<int32_t>(body.size()) : length);
  if (!body.empty()) std::memcpy(out.data() + 4, body.data(), body.size());
  return out;
}

std::vector<std::string> DecodeAll(FrameDecoder& decoder, const std::vector<uint8_t>& bytes,
                                   size_t chunk) {
  std::vector<std::string> frames;
  for (size_t pos = 0; pos < bytes.size();) {
    const size_t n = std::min(chunk, bytes.size() - pos);
    size_t used = 0;
    while (used < n) {
      auto step = decoder.Next({bytes.data() + pos + used, n - used});
      EXPECT_TRUE(step.ok()) << step.status().ToString();
      if (!step.ok()) return frames;
      used += step->consumed;
      if (step->frame) frames.emplace_back(step->frame->bytes().begin(), step->frame->bytes().end());
    }
    pos += n;
  }
  return frames;
}

TEST(FrameDecoderTest, SplitsFramesAtAnyChunking) {
  std::vector<uint8_t> stream;
  for (const std::string& body : std::vector<std::string>{"hello", "", "x", std::string(1000, 'z')}) {
    auto f = Framed(body);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t chunk : {1u, 2u, 3u, 5u, 7u, 64u, 100000u}) {
    FrameDecoder decoder(1 << 20);
    auto frames = DecodeAll(decoder, stream, chunk);
    ASSERT_EQ(frames.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(frames[0], "hello");
    EXPECT_EQ(frames[1], "");
    EXPECT_EQ(frames[2], "x");
    EXPECT_EQ(frames[3], std::string(1000, 'z'));
    EXPECT_TRUE(decoder.at_boundary());
  }
}

TEST(FrameDecoderTest, DirectBodyFill) {
  FrameDecoder decoder(1 << 20);
  auto header = Framed("", 10);
  auto step = decoder.Next({header.data(), 4});
  ASSERT_TRUE(step.ok());
  EXPECT_FALSE(step->frame);
  auto tail = decoder.body_remaining();
  ASSERT_EQ(tail.size(), 10u);
  std::memcpy(tail.data(), "0123456", 7);
  EXPECT_FALSE(decoder.BodyFilled(7));
  tail = decoder.body_remaining();
  ASSERT_EQ(tail.size(), 3u);
  std::memcpy(tail.data(), "789", 3);
  auto frame = decoder.BodyFilled(3);
  ASSERT_TRUE(frame);
  EXPECT_EQ(std::string(frame->bytes().begin(), frame->bytes().end()), "0123456789");
  EXPECT_TRUE(decoder.at_boundary());
}

TEST(FrameDecoderTest, RejectsOversizedBeforeAllocating) {
  for (int32_t length : {1025, 0x7fffffff}) {
    FrameDecoder decoder(1024);
    auto bytes = Framed("", length);
    auto step = decoder.Next(bytes);
    ASSERT_FALSE(step.ok());
    EXPECT_NE(step.status().message().find("socket.request.max.bytes"), std::string::npos);
    EXPECT_EQ(decoder.bytes_allocated(), 0u);
  }
}

TEST(FrameDecoderTest, RejectsNegativeLength) {
  for (int32_t length : {-1, static_cast<int32_t>(0x80000000)}) {
    FrameDecoder decoder(1024);
    auto bytes = Framed("", length);
    auto step = decoder.Next(bytes);
    ASSERT_FALSE(step.ok());
    EXPECT_NE(step.status().message().find("negative"), std::string::npos);
    EXPECT_EQ(decoder.bytes_allocated(), 0u);
  }
}

TEST(FrameDecoderTest, AcceptsExactlyTheLimit) {
  FrameDecoder decoder(16);
  auto frames = DecodeAll(decoder, Framed(std::string(16, 'a')), 3);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(decoder.bytes_allocated(), 16u);
}

}  // namespace
}  // namespace sluice::network
