#include "controller/topic_id.h"

#include <set>

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

TEST(TopicIdTest, RoundTripsThroughKafkasBase64) {
  // Kafka's Uuid(0x0123456789abcdef, 0xfedcba9876543210).toString().
  TopicUuid id = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                  0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
  EXPECT_EQ(TopicUuidToString(id), "ASNFZ4mrze_-3LqYdlQyEA");
  EXPECT_EQ(ParseTopicUuid("ASNFZ4mrze_-3LqYdlQyEA"), id);
  EXPECT_EQ(TopicUuidToString(kNoTopicUuid), "AAAAAAAAAAAAAAAAAAAAAA");
}

TEST(TopicIdTest, RejectsWhatIsNotAnId) {
  EXPECT_FALSE(ParseTopicUuid(""));
  EXPECT_FALSE(ParseTopicUuid("ASNFZ4mrze_-3LqYdlQyE"));    // 21 characters
  EXPECT_FALSE(ParseTopicUuid("ASNFZ4mrze_-3LqYdlQyEA="));  // padded
  EXPECT_FALSE(ParseTopicUuid("ASNFZ4mrze+/3LqYdlQyEA"));   // not URL-safe
  EXPECT_FALSE(ParseTopicUuid("ASNFZ4mrze_-3LqYdlQyEB"));   // padding bits set
}

TEST(TopicIdTest, NewIdsAreDistinctVersion4AndNeverStartWithADash) {
  std::set<TopicUuid> seen;
  for (int i = 0; i < 1000; ++i) {
    const TopicUuid id = NewTopicUuid();
    EXPECT_EQ(id[6] >> 4, 4);
    EXPECT_NE(TopicUuidToString(id)[0], '-');
    EXPECT_EQ(ParseTopicUuid(TopicUuidToString(id)), id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  // A source whose first draw would start with '-' (0xf8...: 62 = '-') is drawn again.
  int calls = 0;
  const TopicUuid id = NewTopicUuid([&] { return ++calls <= 2 ? 0xf800000000000000ull : 1; });
  EXPECT_NE(TopicUuidToString(id)[0], '-');
  EXPECT_EQ(calls, 4);
}

}  // namespace
}  // namespace sluice::controller
