#include <gtest/gtest.h>

#include "protocol/error_code.h"

namespace sluice::protocol {
namespace {

TEST(ErrorCode, NamesAndValues) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::OFFSET_OUT_OF_RANGE), "OFFSET_OUT_OF_RANGE");
  EXPECT_EQ(ToWire(ErrorCode::UNKNOWN_SERVER_ERROR), -1);
  EXPECT_EQ(ToWire(ErrorCode::UNSUPPORTED_VERSION), 35);
  EXPECT_EQ(ToWire(ErrorCode::UNKNOWN_TOPIC_ID), 100);
  EXPECT_EQ(ErrorCodeName(static_cast<ErrorCode>(9999)), "UNKNOWN_ERROR_CODE");
}

TEST(ErrorCode, EveryCodeFromMinusOneIsListed) {
  for (int16_t c = -1; c <= 127; ++c) {
    EXPECT_TRUE(IsKnownErrorCode(c)) << c;
    EXPECT_NE(ErrorCodeName(static_cast<ErrorCode>(c)), "UNKNOWN_ERROR_CODE") << c;
  }
  EXPECT_FALSE(IsKnownErrorCode(-2));
}

TEST(ErrorCode, Retriable) {
  EXPECT_TRUE(IsRetriable(ErrorCode::NOT_LEADER_OR_FOLLOWER));
  EXPECT_TRUE(IsRetriable(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  EXPECT_TRUE(IsRetriable(ErrorCode::REQUEST_TIMED_OUT));
  EXPECT_FALSE(IsRetriable(ErrorCode::OFFSET_OUT_OF_RANGE));
  EXPECT_FALSE(IsRetriable(ErrorCode::UNSUPPORTED_VERSION));
  EXPECT_FALSE(IsRetriable(ErrorCode::NONE));
}

}  // namespace
}  // namespace sluice::protocol
