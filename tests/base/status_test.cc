#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace sluice {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ("OK", s.ToString());
}

TEST(StatusTest, FullDiskErrnoBecomesNoSpace) {
  EXPECT_TRUE(Status::FromErrno(ENOSPC, "/data/x.log").IsNoSpace());
  EXPECT_TRUE(Status::FromErrno(EDQUOT, "/data/x.log").IsNoSpace());
  Status io = Status::FromErrno(EIO, "/data/x.log");
  EXPECT_TRUE(io.IsIOError());
  EXPECT_NE(std::string::npos, io.ToString().find("/data/x.log"));
}

TEST(StatusTest, OnePointerAndCopiesItsError) {
  static_assert(sizeof(Status) == sizeof(void*));
  Status a = Status::Corruption("bad crc");
  Status copy = a;
  EXPECT_TRUE(copy.IsCorruption());
  EXPECT_EQ("bad crc", copy.message());
  EXPECT_EQ("bad crc", a.message());  // Its own copy.
  Status moved = std::move(a);
  EXPECT_EQ("Corruption: bad crc", moved.ToString());
  copy = Status::Ok();
  EXPECT_TRUE(copy.ok());
  EXPECT_EQ("", copy.message());
  EXPECT_EQ(StatusCode::kOk, copy.code());
  copy = moved;
  EXPECT_EQ("bad crc", copy.message());
  moved = Status::NotFound("x");
  EXPECT_TRUE(moved.IsNotFound());
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

TEST(ResultTest, CarriesValueOrStatus) {
  auto ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(4, *ok);
  auto bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(StatusCode::kInvalidArgument, bad.status().code());
}

}  // namespace
}  // namespace sluice
