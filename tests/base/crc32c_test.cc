#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace sluice::crc32c {
namespace {

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

// The RFC 3720 (iSCSI) appendix B.4 vectors and the classic check value.
void CheckStandardVectors(ExtendFn extend) {
  uint8_t buf[32];
  std::memset(buf, 0, sizeof(buf));
  EXPECT_EQ(0x8A9136AAu, extend(0, buf, sizeof(buf)));
  std::memset(buf, 0xFF, sizeof(buf));
  EXPECT_EQ(0x62A8AB43u, extend(0, buf, sizeof(buf)));
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(0x46DD794Eu, extend(0, buf, sizeof(buf)));
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(0x113FDB5Cu, extend(0, buf, sizeof(buf)));
  const std::string check = "123456789";
  EXPECT_EQ(0xE3069283u, extend(0, reinterpret_cast<const uint8_t*>(check.data()), check.size()));
  EXPECT_EQ(0u, extend(0, nullptr, 0));
}

TEST(Crc32cTest, PortableMatchesStandardVectors) { CheckStandardVectors(&ExtendPortable); }

TEST(Crc32cTest, HardwareMatchesStandardVectors) {
  if (!HardwareAvailable()) GTEST_SKIP() << "CPU has no SSE4.2";
  CheckStandardVectors(&ExtendHardware);
}

TEST(Crc32cTest, DispatchMatchesStandardVectors) { CheckStandardVectors(&Extend); }

TEST(Crc32cTest, ExtendIsConcatenation) {
  std::mt19937 rng(42);
  std::vector<uint8_t> data(1000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const uint32_t whole = Value(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); split += 37) {
    uint32_t c = Extend(0, data.data(), split);
    EXPECT_EQ(whole, Extend(c, data.data() + split, data.size() - split)) << split;
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  if (!HardwareAvailable()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::mt19937 rng(7);
  std::vector<uint8_t> data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); ++len) {
      ASSERT_EQ(ExtendPortable(0, data.data() + start, len),
                ExtendHardware(0, data.data() + start, len))
          << "start " << start << " len " << len;
    }
  }
}

// Inputs past three 2 KiB lanes take the interleaved path: lengths around
// each block boundary, a non-zero starting CRC, and unaligned starts.
TEST(Crc32cTest, HardwareAndPortableAgreeAcrossInterleavedBlocks) {
  if (!HardwareAvailable()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::mt19937 rng(11);
  std::vector<uint8_t> data(64 * 1024 + 16);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t len : {6143u, 6144u, 6145u, 6151u, 12288u, 12295u, 20000u, 65536u}) {
    for (size_t start : {0u, 1u, 7u}) {
      for (uint32_t seed : {0u, 0xDEADBEEFu}) {
        ASSERT_EQ(ExtendPortable(seed, data.data() + start, len),
                  ExtendHardware(seed, data.data() + start, len))
            << "start " << start << " len " << len << " seed " << seed;
      }
    }
  }
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::vector<uint8_t> data(4096, 0x5A);
  const uint32_t before = Value(data);
  data[2048] ^= 0x01;
  EXPECT_NE(before, Value(data));
}

}  // namespace
}  // namespace sluice::crc32c
