// Wire primitives, and what the reader does with hostile lengths and counts.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "protocol/generated/metadata.h"
#include "protocol/generated/produce.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace sluice::protocol {
namespace {

TEST(Varint, KnownEncodings) {
  Writer w;
  w.WriteUnsignedVarint(0);
  w.WriteUnsignedVarint(300);
  w.WriteVarint(-1);
  w.WriteVarint(1);
  w.WriteVarlong(-2);
  EXPECT_EQ(w.Take(), (std::vector<uint8_t>{0x00, 0xac, 0x02, 0x01, 0x02, 0x03}));
}

TEST(Varint, RoundTripsExtremes) {
  const int32_t ints[] = {0, 1, -1, 63, -64, 64, INT32_MAX, INT32_MIN};
  const int64_t longs[] = {0, -1, INT64_MAX, INT64_MIN, 1LL << 40};
  const uint32_t uints[] = {0, 127, 128, 16383, 16384, UINT32_MAX};
  Writer w;
  for (int32_t v : ints) w.WriteVarint(v);
  for (int64_t v : longs) w.WriteVarlong(v);
  for (uint32_t v : uints) w.WriteUnsignedVarint(v);
  std::vector<uint8_t> bytes = w.Take();
  Reader r(bytes);
  for (int32_t v : ints) {
    int32_t got = 0;
    ASSERT_TRUE(r.ReadVarint(&got).ok());
    EXPECT_EQ(got, v);
  }
  for (int64_t v : longs) {
    int64_t got = 0;
    ASSERT_TRUE(r.ReadVarlong(&got).ok());
    EXPECT_EQ(got, v);
  }
  for (uint32_t v : uints) {
    uint32_t got = 0;
    ASSERT_TRUE(r.ReadUnsignedVarint(&got).ok());
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Varint, RejectsOverlongAndTruncated) {
  const std::vector<uint8_t> overlong = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  Reader a(overlong);
  uint32_t u = 0;
  EXPECT_FALSE(a.ReadUnsignedVarint(&u).ok());
  const std::vector<uint8_t> truncated = {0x80, 0x80};
  Reader b(truncated);
  EXPECT_FALSE(b.ReadUnsignedVarint(&u).ok());
  const std::vector<uint8_t> long11(11, 0xff);
  Reader c(long11);
  int64_t l = 0;
  EXPECT_FALSE(c.ReadVarlong(&l).ok());
}

// Every varint length, with room to spare (the unrolled path) and at the very
// end of the input (the checked loop).
TEST(Varint, EveryLengthAtTheEndAndNot) {
  const uint32_t values[] = {0, 127, 128, 16383, 16384, (1u << 21) - 1, 1u << 21,
                             (1u << 28) - 1, 1u << 28, UINT32_MAX};
  for (uint32_t v : values) {
    for (size_t padding : {0, 8}) {
      Writer w;
      w.WriteUnsignedVarint(v);
      for (size_t i = 0; i < padding; ++i) w.WriteInt8(0);
      const std::vector<uint8_t> bytes = w.Take();
      Reader r(bytes);
      uint32_t got = 0;
      ASSERT_TRUE(r.ReadUnsignedVarint(&got).ok()) << v;
      EXPECT_EQ(got, v);
      EXPECT_EQ(r.remaining(), padding) << v;
    }
  }
}

TEST(Varint, OverflowNamesTheFifthByte) {
  const std::vector<uint8_t> bytes = {0xff, 0xff, 0xff, 0xff, 0x1f, 0, 0, 0};
  Reader r(bytes);
  uint32_t u = 0;
  Status s = r.ReadUnsignedVarint(&u);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), ": varint overflows 32 bits at offset 5");
}

// Compact bytes lengths (read inline up to 3 bytes) of every size class.
TEST(Bytes, CompactLengthsOfEverySize) {
  for (size_t n : {0, 1, 126, 127, 128, 16382, 16383, 16384, 70000}) {
    for (bool at_end : {true, false}) {
      Writer w;
      w.WriteBytes(Bytes(n, 0x5a), true);
      if (!at_end) w.WriteInt32(7);
      const std::vector<uint8_t> bytes = w.Take();
      Reader r(bytes);
      Bytes got;
      ASSERT_TRUE(r.ReadBytes(&got, true).ok()) << n;
      EXPECT_EQ(got, Bytes(n, 0x5a));
      EXPECT_EQ(r.remaining(), at_end ? 0u : 4u);
    }
  }
  // Too few bytes for any length: the checked path reports it.
  const std::vector<uint8_t> truncated = {0x80, 0x80};
  Reader r(truncated);
  Bytes got;
  EXPECT_FALSE(r.ReadBytes(&got, true).ok());
}

TEST(Strings, ClassicCompactAndNull) {
  Writer w;
  w.WriteString("ab", false);
  w.WriteString("ab", true);
  w.WriteNullableString(std::nullopt, false, true);
  w.WriteNullableString(std::nullopt, true, true);
  w.WriteNullableString(std::nullopt, true, false);  // Not nullable here: empty.
  EXPECT_EQ(w.Take(), (std::vector<uint8_t>{0x00, 0x02, 'a', 'b', 0x03, 'a', 'b', 0xff, 0xff,
                                            0x00, 0x01}));
}

TEST(Strings, NullWhereNotAllowedIsAnError) {
  const std::vector<uint8_t> bytes = {0xff, 0xff};
  Reader r(bytes);
  std::string s;
  EXPECT_FALSE(r.ReadString(&s, false).ok());
  Reader r2(bytes);
  std::optional<std::string> o;
  EXPECT_FALSE(r2.ReadNullableString(&o, false, false).ok());
}

TEST(Fixed, BigEndianAndUuidAndDouble) {
  Writer w;
  w.WriteInt32(0x01020304);
  w.WriteFloat64(1.5);
  Uuid id;
  id.bytes[15] = 9;
  w.WriteUuid(id);
  std::vector<uint8_t> bytes = w.Take();
  EXPECT_EQ(bytes[0], 1);
  EXPECT_EQ(bytes[3], 4);
  Reader r(bytes);
  int32_t i = 0;
  double d = 0;
  Uuid back;
  ASSERT_TRUE(r.ReadInt32(&i).ok());
  ASSERT_TRUE(r.ReadFloat64(&d).ok());
  ASSERT_TRUE(r.ReadUuid(&back).ok());
  EXPECT_EQ(i, 0x01020304);
  EXPECT_EQ(d, 1.5);
  EXPECT_EQ(back, id);
  EXPECT_FALSE(r.ReadInt8(reinterpret_cast<int8_t*>(&i)).ok());
}

// A Produce v3 request whose records length claims 2 GiB: the error names
// the field path and offset, and nothing is allocated.
TEST(Hostile, AbsurdRecordsLengthNamesTheField) {
  ProduceRequest req;
  req.acks = 1;
  req.topic_data.resize(1);
  req.topic_data[0].name = "t";
  req.topic_data[0].partition_data.resize(3);
  for (auto& p : req.topic_data[0].partition_data) p.records = Records::Owned({1, 2, 3});
  Writer w;
  req.Encode(w, 3);
  std::vector<uint8_t> bytes = w.Take();
  // The last partition's records length sits 7 bytes from the end.
  const size_t at = bytes.size() - 7;
  StoreBigEndian<int32_t>(bytes.data() + at, INT32_MAX);
  Reader r(bytes);
  ProduceRequest back;
  Status s = back.Decode(r, 3);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "ProduceRequest.topic_data[0].partition_data[2].records: length 2147483647 exceeds 3 "
            "remaining bytes at offset " + std::to_string(at));
}

TEST(Hostile, AbsurdArrayCountFailsBeforeAllocating) {
  const std::vector<uint8_t> bytes = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x00};
  Reader r(bytes);
  MetadataResponse m;
  Status s = m.Decode(r, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("MetadataResponse.brokers: count 2147483647"), std::string::npos)
      << s.message();
}

TEST(Hostile, AbsurdCompactCount) {
  // Metadata v9 response: throttle, then brokers as a compact array.
  const std::vector<uint8_t> bytes = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f};
  Reader r(bytes);
  MetadataResponse m;
  EXPECT_FALSE(m.Decode(r, 9).ok());
}

TEST(Hostile, NegativeLength) {
  const std::vector<uint8_t> bytes = {0xff, 0xfe};
  Reader r(bytes);
  std::optional<std::string> s;
  EXPECT_FALSE(r.ReadNullableString(&s, false, true).ok());
}

TEST(Hostile, TaggedFieldSizeBeyondInput) {
  // ApiVersions-style tagged section: one field, tag 0, size 100, no data.
  const std::vector<uint8_t> bytes = {0x01, 0x00, 0x64};
  Cursor c(bytes);
  std::vector<TaggedField> unknown;
  Status s = c.ReadTaggedFields(&unknown, [](uint32_t, Cursor&, const char**) {
    return Status::Ok();  // Unknown: kept verbatim.
  });
  EXPECT_FALSE(s.ok());
}

TEST(TaggedFields, UnknownArePreservedInTagOrder) {
  ProduceResponse resp;
  resp.unknown_tagged_fields = {{5, {1}}, {70000, {2, 3}}};
  Writer w;
  resp.Encode(w, 9);
  std::vector<uint8_t> bytes = w.Take();
  Reader r(bytes);
  ProduceResponse back;
  ASSERT_TRUE(back.Decode(r, 9).ok());
  EXPECT_EQ(back.unknown_tagged_fields, resp.unknown_tagged_fields);
  // Dropped in a non-flexible version.
  Writer w8;
  resp.Encode(w8, 8);
  Reader r8(w8.buffer());
  ASSERT_TRUE(back.Decode(r8, 8).ok());
  EXPECT_TRUE(back.unknown_tagged_fields.empty());
}

}  // namespace
}  // namespace sluice::protocol
