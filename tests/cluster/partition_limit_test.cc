// A change the broker cannot carry out leaves nothing behind: past
// sluice.broker.max.partitions it is refused before anything is written,
// and one whose logs cannot all be made is undone (record and logs), so the
// name stays free and a restart finds no half-made topic.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cluster/partition_manager.h"
#include "storage/fault_injection_fs.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

namespace fs = std::filesystem;
using storage::testing::FaultInjectionFileSystem;

config::BrokerConfig LimitedConfig(const testing::TempDir& dir, int max_partitions = 200000) {
  auto c = config::BrokerConfig::Build(
      {}, "",
      {"log.dirs=" + dir.path().string(), "log.cleaner.enable=false",
       "sluice.broker.max.partitions=" + std::to_string(max_partitions),
       "sluice.log.max.open.files=8"});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

int PartitionDirs(const fs::path& dir, const std::string& topic) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && e.path().filename().string().starts_with(topic + "-")) ++n;
  }
  return n;
}

TEST(PartitionLimitTest, PastTheLimitNothingIsWritten) {
  testing::TempDir dir;
  const config::BrokerConfig config = LimitedConfig(dir, 10);
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  ASSERT_TRUE((*pm)->CreateTopic("six", 6, 1, {}, false).ok());
  for (bool validate_only : {true, false}) {
    Result<TopicInfo> refused = (*pm)->CreateTopic("five", 5, 1, {}, validate_only);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(StatusCode::kOutOfRange, refused.status().code()) << refused.status().ToString();
    EXPECT_NE(std::string::npos, refused.status().message().find("holds 6 now"));
  }
  EXPECT_FALSE((*pm)->FindTopic("five"));
  EXPECT_EQ(0, PartitionDirs(dir.path(), "five"));
  Status grown = (*pm)->CreatePartitions("six", 11, false);
  EXPECT_EQ(StatusCode::kOutOfRange, grown.code()) << grown.ToString();
  EXPECT_EQ(6, (*pm)->FindTopic("six")->partition_count);
  EXPECT_TRUE((*pm)->CreatePartitions("six", 10, false).ok()) << "up to the limit";
  EXPECT_EQ(10, PartitionDirs(dir.path(), "six"));
  ASSERT_TRUE((*pm)->Close().ok());
}

// The third partition directory cannot be made (a file is in its place):
// the create fails, and what it made goes again.
TEST(PartitionLimitTest, AFailedCreateIsUndone) {
  testing::TempDir dir;
  FaultInjectionFileSystem fs;
  const config::BrokerConfig config = LimitedConfig(dir);
  {
    auto pm = PartitionManager::Open(config, nullptr, &fs);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    std::ofstream(dir.path() / "half-2") << "in the way";
    Result<TopicInfo> created = (*pm)->CreateTopic("half", 40, 1, {}, false);
    ASSERT_FALSE(created.ok());
    EXPECT_NE(std::string::npos, created.status().message().find("nothing of it was kept"))
        << created.status().ToString();
    EXPECT_EQ(std::string::npos, created.status().message().find(dir.path().string()))
        << "no server path for the client: " << created.status().ToString();
    EXPECT_FALSE((*pm)->FindTopic("half"));
    EXPECT_EQ(0, PartitionDirs(dir.path(), "half"));

    // The same for partitions added to a topic.
    ASSERT_TRUE((*pm)->CreateTopic("grow", 2, 1, {}, false).ok());
    std::ofstream(dir.path() / "grow-5") << "in the way";
    Status grown = (*pm)->CreatePartitions("grow", 30, false);
    ASSERT_FALSE(grown.ok());
    EXPECT_EQ(2, (*pm)->FindTopic("grow")->partition_count);
    EXPECT_EQ(2, PartitionDirs(dir.path(), "grow"));
    EXPECT_NE(nullptr, (*pm)->Get("grow", 1));
    EXPECT_EQ(nullptr, (*pm)->Get("grow", 2));
    ASSERT_TRUE((*pm)->Close().ok());
  }
  // A restart agrees, and the names are free again.
  fs::remove(dir.path() / "half-2");
  fs::remove(dir.path() / "grow-5");
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  EXPECT_FALSE((*pm)->FindTopic("half"));
  EXPECT_EQ(2, (*pm)->FindTopic("grow")->partition_count);
  EXPECT_TRUE((*pm)->CreateTopic("half", 40, 1, {}, false).ok());
  EXPECT_TRUE((*pm)->CreatePartitions("grow", 30, false).ok());
  EXPECT_EQ(40, PartitionDirs(dir.path(), "half"));
  EXPECT_EQ(30, PartitionDirs(dir.path(), "grow"));
  ASSERT_TRUE((*pm)->Close().ok());
}

}  // namespace
}  // namespace sluice::cluster
