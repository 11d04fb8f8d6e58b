#include "model/varint.h"

#include <gtest/gtest.h>

#include <limits>

namespace sluice::model {
namespace {

TEST(VarintTest, MatchesKafkaEncodings) {
  struct Case {
    int32_t value;
    std::vector<uint8_t> bytes;
  };
  const Case cases[] = {{0, {0x00}},        {-1, {0x01}},       {1, {0x02}},
                        {63, {0x7e}},       {-64, {0x7f}},      {64, {0x80, 0x01}},
                        {-65, {0x81, 0x01}}, {300, {0xd8, 0x04}},
                        {std::numeric_limits<int32_t>::max(), {0xfe, 0xff, 0xff, 0xff, 0x0f}},
                        {std::numeric_limits<int32_t>::min(), {0xff, 0xff, 0xff, 0xff, 0x0f}}};
  for (const Case& c : cases) {
    std::vector<uint8_t> out;
    AppendVarint(&out, c.value);
    EXPECT_EQ(out, c.bytes) << c.value;
    EXPECT_EQ(VarintSize(c.value), c.bytes.size());
    ByteReader r(c.bytes);
    EXPECT_EQ(r.ReadVarint(), c.value);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
  }
}

TEST(VarintTest, VarlongRoundTripsExtremes) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1} << 40, std::numeric_limits<int64_t>::max(),
                    std::numeric_limits<int64_t>::min()}) {
    std::vector<uint8_t> out;
    AppendVarlong(&out, v);
    EXPECT_EQ(out.size(), VarlongSize(v));
    ByteReader r(out);
    EXPECT_EQ(r.ReadVarlong(), v);
    EXPECT_TRUE(r.ok());
  }
}

TEST(VarintTest, RefusesOverlongAndTruncated) {
  const std::vector<uint8_t> six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  ByteReader a(six);
  a.ReadVarint();
  EXPECT_FALSE(a.ok());
  const std::vector<uint8_t> wide = {0xff, 0xff, 0xff, 0xff, 0x1f};  // 35 bits.
  ByteReader b(wide);
  b.ReadVarint();
  EXPECT_FALSE(b.ok());
  const std::vector<uint8_t> cut = {0x80, 0x80};
  ByteReader c(cut);
  c.ReadVarlong();
  EXPECT_FALSE(c.ok());
  const std::vector<uint8_t> eleven(11, 0x80);
  ByteReader d(eleven);
  d.ReadVarlong();
  EXPECT_FALSE(d.ok());
}

TEST(VarintTest, ReaderStaysFailed) {
  const std::vector<uint8_t> bytes = {0x02, 0x04};
  ByteReader r(bytes);
  EXPECT_TRUE(r.ReadBytes(3).empty());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.ReadVarint(), 0);
  EXPECT_EQ(r.remaining(), 0u);
}

}  // namespace
}  // namespace sluice::model
