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
