// The __consumer_offsets record formats: Kafka's exact bytes, every
// readable version, and malformed input refused with a reason.
#include "group/offsets_record.h"

#include <gtest/gtest.h>

namespace sluice::group {
namespace {

TEST(OffsetsRecordTest, OffsetKeyHasKafkasLayout) {
  const std::vector<uint8_t> expected = {0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 7};
  EXPECT_EQ(EncodeKey(OffsetKey{"g", "t", 7}), expected);
  auto key = DecodeKey(expected);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(std::get<OffsetKey>(*key), (OffsetKey{"g", "t", 7}));
}

TEST(OffsetsRecordTest, GroupKeyHasKafkasLayout) {
  const std::vector<uint8_t> expected = {0, 2, 0, 2, 'g', 'r'};
  EXPECT_EQ(EncodeKey(GroupKey{"gr"}), expected);
  auto key = DecodeKey(expected);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(std::get<GroupKey>(*key).group, "gr");
}

TEST(OffsetsRecordTest, OffsetValueRoundTripsAndOlderVersionsDecode) {
  CommittedOffset v{42, 3, "meta", 1700000000000};
  auto decoded = DecodeOffsetValue(EncodeValue(v));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, v);
  // Version 1: offset, metadata, commit timestamp, expire timestamp.
  const std::vector<uint8_t> v1 = {0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 'm',
                                   0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6};
  auto old = DecodeOffsetValue(v1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(*old, (CommittedOffset{9, -1, "m", 5}));
}

TEST(OffsetsRecordTest, GroupValueRoundTrips) {
  StoredGroup g;
  g.protocol_type = "consumer";
  g.generation = 5;
  g.protocol = "range";
  g.leader = "m1";
  g.state_timestamp_ms = 123;
  g.members.push_back({"m1", "static-1", "client", "/127.0.0.1", 300000, 10000, {1, 2}, {3}});
  g.members.push_back({"m2", std::nullopt, "client", "/127.0.0.1", 300000, 10000, {}, {}});
  auto decoded = DecodeGroupValue(EncodeValue(g));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, g);
}

TEST(OffsetsRecordTest, TruncatedOrUnknownInputIsRefused) {
  auto bytes = EncodeValue(CommittedOffset{1, 2, "xyz", 3});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeOffsetValue(std::span(bytes).first(n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeKey(std::vector<uint8_t>{0, 9, 0, 0}).ok());
  // A member count far beyond the bytes present is refused before sizing.
  StoredGroup g;
  auto value = EncodeValue(g);
  value[value.size() - 1] = 0x7f;
  EXPECT_FALSE(DecodeGroupValue(value).ok());
}

TEST(OffsetsRecordTest, PartitionForMatchesJavasStringHashCode) {
  // "hello".hashCode() == 99162322.
  EXPECT_EQ(OffsetsPartitionFor("hello", 50), 99162322 % 50);
  // This string hashes to Integer.MIN_VALUE: Kafka's abs() makes it 0.
  EXPECT_EQ(OffsetsPartitionFor("polygenelubricants", 50), 0);
  // Outside the BMP Java hashes the two UTF-16 surrogates: D83D DE00.
  EXPECT_EQ(OffsetsPartitionFor("\xF0\x9F\x98\x80", 50), (0xD83D * 31 + 0xDE00) % 50);
  EXPECT_EQ(OffsetsPartitionFor("\xC3\xA9", 50), 0xE9 % 50);  // U+00E9
}

}  // namespace
}  // namespace sluice::group
