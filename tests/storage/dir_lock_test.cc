// DirLock: one holder per data directory, released when dropped.
#include "storage/dir_lock.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;

TEST(DirLockTest, SecondHolderIsRefusedUntilTheFirstReleases) {
  TempDir dir;
  const auto data = dir.path() / "data";
  auto first = DirLock::Acquire(data);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(data / kDirLockFile)) << "the directory is created";
  auto second = DirLock::Acquire(data);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAborted);
  EXPECT_NE(second.status().message().find(data.string()), std::string::npos)
      << second.status().ToString();
  first->reset();
  EXPECT_TRUE(DirLock::Acquire(data).ok());
}

TEST(DirLockTest, DistinctDirectoriesDoNotConflict) {
  TempDir dir;
  auto a = DirLock::Acquire(dir.path() / "a");
  auto b = DirLock::Acquire(dir.path() / "b");
  EXPECT_TRUE(a.ok());
  EXPECT_TRUE(b.ok());
}

}  // namespace
}  // namespace sluice::storage
