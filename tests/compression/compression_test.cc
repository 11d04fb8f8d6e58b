#include "compression/compression.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/endian.h"

namespace sluice::compression {
namespace {

constexpr Codec kAllCodecs[] = {Codec::kNone, Codec::kGzip, Codec::kSnappy, Codec::kLz4,
                                Codec::kZstd};

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::vector<uint8_t> TextBytes(size_t n) {
  static const std::string kText = "the quick brown fox jumps over the lazy dog 0123456789 ";
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(kText[i % kText.size()] + (i / 4096) % 3);
  return v;
}

std::vector<uint8_t> MustCompress(Codec c, std::span<const uint8_t> in) {
  auto r = Compress(c, in, std::nullopt);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<uint8_t>{};
}

class CodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecTest, RoundTripsSizes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{65537}, size_t{1} << 20}) {
    for (const auto& input : {TextBytes(n), RandomBytes(n, static_cast<uint32_t>(n))}) {
      std::vector<uint8_t> packed = MustCompress(GetParam(), input);
      auto unpacked = Decompress(GetParam(), packed, {});
      ASSERT_TRUE(unpacked.ok()) << CodecName(GetParam()) << " n=" << n << ": "
                                 << unpacked.status().ToString();
      EXPECT_EQ(*unpacked, input) << CodecName(GetParam()) << " n=" << n;
    }
  }
}

TEST_P(CodecTest, AppendsAfterExistingBytes) {
  const std::vector<uint8_t> input = TextBytes(5000);
  std::vector<uint8_t> packed = {9, 9, 9};
  ASSERT_TRUE(CompressInto(GetParam(), input, &packed).ok());
  EXPECT_EQ(packed[0], 9);
  std::vector<uint8_t> out = {7};
  ASSERT_TRUE(DecompressInto(GetParam(), std::span(packed).subspan(3), &out).ok());
  ASSERT_EQ(out.size(), input.size() + 1);
  EXPECT_EQ(out[0], 7);
  EXPECT_TRUE(std::equal(input.begin(), input.end(), out.begin() + 1));
}

TEST_P(CodecTest, CompressionLevelsWork) {
  if (GetParam() == Codec::kNone || GetParam() == Codec::kSnappy) GTEST_SKIP();
  const std::vector<uint8_t> input = TextBytes(100000);
  for (int level : {1, 9}) {
    auto packed = Compress(GetParam(), input, level);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
    auto unpacked = Decompress(GetParam(), *packed, {});
    ASSERT_TRUE(unpacked.ok());
    EXPECT_EQ(*unpacked, input);
  }
}

TEST_P(CodecTest, RefusesOutputBeyondLimit) {
  const std::vector<uint8_t> zeros(1 << 20, 0);
  std::vector<uint8_t> packed = MustCompress(GetParam(), zeros);
  auto refused = Decompress(GetParam(), packed, {.max_output_bytes = 64 << 10});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsOutputLimitExceeded(refused.status())) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("decompression bomb"), std::string::npos);
  // Exactly at the limit is fine.
  auto exact = Decompress(GetParam(), packed, {.max_output_bytes = zeros.size()});
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(exact->size(), zeros.size());
  // The failed call left the caller's buffer as it was.
  std::vector<uint8_t> out = {1, 2};
  EXPECT_FALSE(DecompressInto(GetParam(), packed, &out, {.max_output_bytes = 1000}).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2}));
}

TEST_P(CodecTest, TruncatedInputIsAnErrorNotACrash) {
  if (GetParam() == Codec::kNone) GTEST_SKIP();
  const std::vector<uint8_t> input = TextBytes(3000);
  std::vector<uint8_t> packed = MustCompress(GetParam(), input);
  for (size_t n = 0; n < packed.size(); ++n) {
    std::vector<uint8_t> prefix(packed.begin(), packed.begin() + static_cast<ptrdiff_t>(n));
    auto r = Decompress(GetParam(), prefix, {});
    // lz4 and zstd frames can end early at a block boundary only with their
    // end mark, gzip with its trailer; snappy's declared length catches the rest.
    EXPECT_FALSE(r.ok() && *r == input) << CodecName(GetParam()) << " prefix " << n;
    if (r.ok()) {
      EXPECT_LT(r->size(), input.size());
    }
  }
}

TEST_P(CodecTest, GarbageIsAnErrorNotACrash) {
  if (GetParam() == Codec::kNone) GTEST_SKIP();
  for (uint32_t seed = 0; seed < 200; ++seed) {
    std::vector<uint8_t> junk = RandomBytes(seed % 97 + 1, seed);
    auto r = Decompress(GetParam(), junk, {.max_output_bytes = 1 << 20});
    if (r.ok()) {
      EXPECT_LE(r->size(), size_t{1} << 20);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest, ::testing::ValuesIn(kAllCodecs),
                         [](const ::testing::TestParamInfo<Codec>& p) { return std::string(CodecName(p.param)); });

TEST(CompressionTest, DefaultLimitRefusesLargeBombs) {
  const std::vector<uint8_t> zeros(kDefaultMaxDecompressedBytes + 1, 0);
  for (Codec c : {Codec::kLz4, Codec::kZstd}) {
    std::vector<uint8_t> packed = MustCompress(c, zeros);
    EXPECT_LT(packed.size(), size_t{1} << 20);
    auto r = Decompress(c, packed, {});
    ASSERT_FALSE(r.ok()) << CodecName(c);
    EXPECT_TRUE(IsOutputLimitExceeded(r.status()));
  }
}

TEST(CompressionTest, CodecNames) {
  for (Codec c : kAllCodecs) EXPECT_EQ(ParseCodecName(CodecName(c)), c);
  EXPECT_EQ(ParseCodecName("brotli"), std::nullopt);
}

// The Java client's snappy framing (xerial SnappyOutputStream).
std::vector<uint8_t> XerialFrame(std::span<const uint8_t> input, size_t chunk) {
  std::vector<uint8_t> out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    const size_t n = std::min(chunk, input.size() - pos);
    std::string block;
    snappy::Compress(reinterpret_cast<const char*>(input.data() + pos), n, &block);
    uint8_t len[4];
    StoreBigEndian(len, static_cast<int32_t>(block.size()));
    out.insert(out.end(), len, len + 4);
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

TEST(SnappyTest, DecodesXerialFraming) {
  const std::vector<uint8_t> input = TextBytes(100000);
  auto r = Decompress(Codec::kSnappy, XerialFrame(input, 32 << 10), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, input);
  // Header only: no chunks, empty output.
  auto empty = Decompress(Codec::kSnappy, XerialFrame({}, 1), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(SnappyTest, XerialLimitCountsAllChunks) {
  const std::vector<uint8_t> zeros(1 << 20, 0);
  auto r = Decompress(Codec::kSnappy, XerialFrame(zeros, 32 << 10), {.max_output_bytes = 100000});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsOutputLimitExceeded(r.status()));
}

TEST(SnappyTest, XerialBadChunksAreCorruption) {
  std::vector<uint8_t> framed = XerialFrame(TextBytes(1000), 300);
  std::vector<uint8_t> cut(framed.begin(), framed.end() - 3);
  EXPECT_TRUE(Decompress(Codec::kSnappy, cut, {}).status().IsCorruption());
  std::vector<uint8_t> huge = framed;
  StoreBigEndian(huge.data() + 16, int32_t{0x7fffffff});
  EXPECT_TRUE(Decompress(Codec::kSnappy, huge, {}).status().IsCorruption());
  std::vector<uint8_t> negative = framed;
  StoreBigEndian(negative.data() + 16, int32_t{-5});
  EXPECT_TRUE(Decompress(Codec::kSnappy, negative, {}).status().IsCorruption());
}

TEST(SnappyTest, RawBlockClaimingHugeLengthIsRefusedBeforeAllocating) {
  // A 5-byte varint announcing ~4 GiB of output.
  const std::vector<uint8_t> bomb = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
  auto r = Decompress(Codec::kSnappy, bomb, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsOutputLimitExceeded(r.status())) << r.status().ToString();
}

TEST(ZstdTest, DecodesFramesWithoutContentSize) {
  const std::vector<uint8_t> input = TextBytes(300000);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::vector<uint8_t> packed(ZSTD_compressBound(input.size()));
  ZSTD_outBuffer out{packed.data(), packed.size(), 0};
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  packed.resize(out.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(packed.data(), packed.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  auto r = Decompress(Codec::kZstd, packed, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, input);
  auto refused = Decompress(Codec::kZstd, packed, {.max_output_bytes = 1000});
  EXPECT_TRUE(IsOutputLimitExceeded(refused.status()));
}

TEST(Lz4Test, DecodesConcatenatedFramesAndContentSize) {
  const std::vector<uint8_t> a = TextBytes(70000), b = RandomBytes(5000, 7);
  std::vector<uint8_t> packed = MustCompress(Codec::kLz4, a);
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = b.size();
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  std::vector<uint8_t> second(LZ4F_compressFrameBound(b.size(), &prefs));
  second.resize(LZ4F_compressFrame(second.data(), second.size(), b.data(), b.size(), &prefs));
  packed.insert(packed.end(), second.begin(), second.end());
  auto r = Decompress(Codec::kLz4, packed, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<uint8_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_EQ(*r, both);
}

TEST(Lz4Test, WritesIndependentBlocksForJavaReaders) {
  std::vector<uint8_t> packed = MustCompress(Codec::kLz4, TextBytes(1000));
  ASSERT_GE(packed.size(), 6u);
  EXPECT_EQ(LoadBigEndian<uint32_t>(packed.data()), 0x04224D18u);  // Magic 0x184D2204, LE.
  EXPECT_TRUE(packed[4] & 0x20) << "FLG block independence bit";
}

TEST(GzipTest, DecodesMultipleMembersAndRefusesTrailingJunk) {
  const std::vector<uint8_t> a = TextBytes(1000), b = TextBytes(2000);
  std::vector<uint8_t> packed = MustCompress(Codec::kGzip, a);
  std::vector<uint8_t> second = MustCompress(Codec::kGzip, b);
  EXPECT_EQ(packed[0], 0x1f);
  EXPECT_EQ(packed[1], 0x8b);
  packed.insert(packed.end(), second.begin(), second.end());
  auto r = Decompress(Codec::kGzip, packed, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), a.size() + b.size());
  packed.push_back(0x42);
  EXPECT_TRUE(Decompress(Codec::kGzip, packed, {}).status().IsCorruption());
}

}  // namespace
}  // namespace sluice::compression

namespace sluice::compression {
namespace {

TEST(SnappyTest, ImpossibleExpansionClaimIsCorruption) {
  // Claims 1 MiB (under the limit) from 4 bytes.
  const std::vector<uint8_t> liar = {0x80, 0x80, 0x40, 0x00};
  auto r = Decompress(Codec::kSnappy, liar, {});
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
}

TEST(ZstdTest, DeclaredSizeBeyondLimitIsRefusedUpFront) {
  const std::vector<uint8_t> zeros(1 << 20, 0);
  auto packed = Compress(Codec::kZstd, zeros);
  ASSERT_TRUE(packed.ok());
  auto r = Decompress(Codec::kZstd, *packed, {.max_output_bytes = (1 << 20) - 1});
  EXPECT_TRUE(IsOutputLimitExceeded(r.status())) << r.status().ToString();
}

TEST(GzipTest, LyingSizeTrailerDoesNotMatter) {
  const std::vector<uint8_t> text(100000, 'a');
  auto packed = Compress(Codec::kGzip, text);
  ASSERT_TRUE(packed.ok());
  std::vector<uint8_t> liar = *packed;
  // ISIZE claims 4 GiB - 1: only a hint, and the CRC/size check fails.
  for (size_t i = liar.size() - 4; i < liar.size(); ++i) liar[i] = 0xff;
  auto r = Decompress(Codec::kGzip, liar, {});
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
}

}  // namespace
}  // namespace sluice::compression
