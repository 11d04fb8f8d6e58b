#include "cluster/topic_name.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::cluster {
namespace {

TEST(TopicNameTest, AcceptsKafkaLegalNames) {
  EXPECT_TRUE(ValidateTopicName("orders").ok());
  EXPECT_TRUE(ValidateTopicName("a.b_c-D9").ok());
  EXPECT_TRUE(ValidateTopicName("__consumer_offsets").ok());
  EXPECT_TRUE(ValidateTopicName(std::string(249, 'x')).ok());
}

TEST(TopicNameTest, RejectsEmptyDotAndDotDot) {
  EXPECT_FALSE(ValidateTopicName("").ok());
  EXPECT_FALSE(ValidateTopicName(".").ok());
  EXPECT_FALSE(ValidateTopicName("..").ok());
  EXPECT_TRUE(ValidateTopicName("...").ok());
}

TEST(TopicNameTest, RejectsOver249Characters) {
  Status s = ValidateTopicName(std::string(250, 'x'));
  EXPECT_EQ(StatusCode::kInvalidArgument, s.code());
  EXPECT_NE(std::string::npos, s.message().find("249"));
}

TEST(TopicNameTest, RejectsCharactersOutsideTheLegalSet) {
  for (const std::string& bad : std::vector<std::string>{"a b", "a/b", "a\\b", "a:b", "t\xc3\xa9", std::string("a\0b", 3), "a*"}) {
    EXPECT_FALSE(ValidateTopicName(bad).ok()) << bad;
  }
}

TEST(TopicNameTest, InternalAndCollidingNames) {
  EXPECT_TRUE(IsInternalTopic("__consumer_offsets"));
  EXPECT_FALSE(IsInternalTopic("_x"));
  EXPECT_FALSE(IsInternalTopic("__my_topic"));  // Only the broker's own topics are internal.
  EXPECT_EQ(UnifyCollidingChars("a.b_c"), UnifyCollidingChars("a_b.c"));
}

}  // namespace
}  // namespace sluice::cluster
