#include "cluster/topic_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "storage/fault_injection_fs.h"
#include "storage/file.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

TopicInfo Topic(std::string name, int32_t partitions) {
  TopicInfo t;
  t.name = std::move(name);
  t.id = NewTopicId();
  t.partition_count = partitions;
  return t;
}

TEST(TopicTableTest, ChangesSurviveReopen) {
  testing::TempDir dir;
  TopicInfo orders = Topic("orders", 3);
  orders.configs["retention.ms"] = "60000";
  {
    auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE((*table)->CreateTopic(orders).ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("gone", 1)).ok());
    ASSERT_TRUE((*table)->DeleteTopic("gone").ok());
    ASSERT_TRUE((*table)->SetPartitionCount("orders", 5).ok());
    ASSERT_TRUE((*table)->SetConfig("orders", "cleanup.policy", "compact,delete").ok());
    ASSERT_TRUE((*table)->SetConfig("orders", "weird key", std::string("a b\n=%")).ok());
    ASSERT_TRUE((*table)->SetConfig("orders", "retention.ms", std::nullopt).ok());
  }
  auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_FALSE((*table)->Find("gone").has_value());
  auto found = (*table)->Find("orders");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(orders.id, found->id);
  EXPECT_EQ(5, found->partition_count);
  EXPECT_EQ((std::map<std::string, std::string>{{"cleanup.policy", "compact,delete"},
                                                {"weird key", "a b\n=%"}}),
            found->configs);
}

TEST(TopicTableTest, DuplicateCreateAndMissingTopicAreErrors) {
  testing::TempDir dir;
  auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  ASSERT_TRUE(table.ok());
  ASSERT_TRUE((*table)->CreateTopic(Topic("t", 1)).ok());
  EXPECT_EQ(StatusCode::kAlreadyExists, (*table)->CreateTopic(Topic("t", 2)).code());
  EXPECT_TRUE((*table)->DeleteTopic("nope").IsNotFound());
  EXPECT_EQ(StatusCode::kInvalidArgument, (*table)->SetPartitionCount("t", 1).code());
  EXPECT_EQ(1u, (*table)->List().size());
}

TEST(TopicTableTest, NameIsReusableAfterDeleteWithNewId) {
  testing::TempDir dir;
  auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  ASSERT_TRUE(table.ok());
  TopicInfo first = Topic("t", 1);
  ASSERT_TRUE((*table)->CreateTopic(first).ok());
  ASSERT_TRUE((*table)->DeleteTopic("t").ok());
  TopicInfo second = Topic("t", 2);
  ASSERT_TRUE((*table)->CreateTopic(second).ok());
  EXPECT_NE(first.id, (*table)->Find("t")->id);
}

TEST(TopicTableTest, TornLastRecordIsDroppedOnOpen) {
  testing::TempDir dir;
  {
    auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("kept", 1)).ok());
  }
  {
    std::ofstream out(dir.path() / "topics.log", std::ios::app | std::ios::binary);
    out << "deadbeef create half";  // A crash mid-append leaves no newline.
  }
  auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_TRUE((*table)->Find("kept").has_value());
  ASSERT_TRUE((*table)->CreateTopic(Topic("after", 1)).ok());
  auto again = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(2u, (*again)->List().size());
}

TEST(TopicTableTest, CorruptionInTheMiddleFailsOpen) {
  testing::TempDir dir;
  {
    auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("a", 1)).ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("b", 1)).ok());
  }
  {
    std::fstream f(dir.path() / "topics.log", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('Z');
  }
  auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  EXPECT_TRUE(table.status().IsCorruption());
}

TEST(TopicTableTest, LongHistoryIsCompactedWhenAskedAndForgetsDeletedTopics) {
  testing::TempDir dir;
  {
    auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("stay", 2)).ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("gone", 1)).ok());
    ASSERT_TRUE((*table)->DeleteTopic("gone").ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*table)->SetConfig("stay", "retention.ms", std::to_string(i)).ok());
    }
  }
  const auto before = std::filesystem::file_size(dir.path() / "topics.log");
  {
    auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
    ASSERT_TRUE(table.ok());
    EXPECT_EQ("99", (*table)->Find("stay")->configs.at("retention.ms"));
    EXPECT_EQ((std::set<std::string, std::less<>>{"gone"}), (*table)->DeletedTopics())
        << "replay remembers the deletion until the owner compacts";
    EXPECT_EQ(before, std::filesystem::file_size(dir.path() / "topics.log"))
        << "opening alone does not rewrite";
    ASSERT_TRUE((*table)->CompactIfLong().ok());
    EXPECT_TRUE((*table)->DeletedTopics().empty());
  }
  EXPECT_LT(std::filesystem::file_size(dir.path() / "topics.log"), before / 10);
  auto table = TopicTable::Open(storage::FileSystem::Default(), dir.path());
  ASSERT_TRUE(table.ok());
  EXPECT_EQ("99", (*table)->Find("stay")->configs.at("retention.ms"));
  EXPECT_EQ(2, (*table)->Find("stay")->partition_count);
  EXPECT_FALSE((*table)->Find("gone").has_value());
}

TEST(TopicTableTest, AFailedAppendLeavesNoDamagedRecordBeforeTheNextOne) {
  testing::TempDir dir;
  storage::testing::FaultInjectionFileSystem fs;
  {
    auto table = TopicTable::Open(&fs, dir.path());
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE((*table)->CreateTopic(Topic("before", 1)).ok());
    // Half of the record reaches the file, then the disk fails.
    fs.FailWrites(Status::NoSpace("disk full"), /*partial_bytes=*/20);
    EXPECT_TRUE((*table)->CreateTopic(Topic("failed", 1)).IsNoSpace());
    fs.ClearFaults();
    fs.FailSyncs(Status::IOError("sync failed"));
    EXPECT_TRUE((*table)->CreateTopic(Topic("unsynced", 1)).IsIOError());
    fs.ClearFaults();
    EXPECT_FALSE((*table)->Find("failed").has_value());
    EXPECT_FALSE((*table)->Find("unsynced").has_value());
    ASSERT_TRUE((*table)->CreateTopic(Topic("after", 1)).ok());
  }
  auto table = TopicTable::Open(&fs, dir.path());
  ASSERT_TRUE(table.ok()) << table.status().ToString() << ": a torn record before a good one";
  std::vector<std::string> names;
  for (const TopicInfo& t : (*table)->List()) names.push_back(t.name);
  EXPECT_EQ((std::vector<std::string>{"after", "before"}), names);
}

}  // namespace
}  // namespace sluice::cluster
