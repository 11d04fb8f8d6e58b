#include "cluster/topic_table.h"

#include <gtest/gtest.h>

#include <fstream>

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
    auto table = TopicTable::Open(dir.path());
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE((*table)->CreateTopic(orders).ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("gone", 1)).ok());
    ASSERT_TRUE((*table)->DeleteTopic("gone").ok());
    ASSERT_TRUE((*table)->SetPartitionCount("orders", 5).ok());
    ASSERT_TRUE((*table)->SetConfig("orders", "cleanup.policy", "compact,delete").ok());
    ASSERT_TRUE((*table)->SetConfig("orders", "weird key", std::string("a b\n=%")).ok());
    ASSERT_TRUE((*table)->SetConfig("orders", "retention.ms", std::nullopt).ok());
  }
  auto table = TopicTable::Open(dir.path());
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
  auto table = TopicTable::Open(dir.path());
  ASSERT_TRUE(table.ok());
  ASSERT_TRUE((*table)->CreateTopic(Topic("t", 1)).ok());
  EXPECT_EQ(StatusCode::kAlreadyExists, (*table)->CreateTopic(Topic("t", 2)).code());
  EXPECT_TRUE((*table)->DeleteTopic("nope").IsNotFound());
  EXPECT_EQ(StatusCode::kInvalidArgument, (*table)->SetPartitionCount("t", 1).code());
  EXPECT_EQ(1u, (*table)->List().size());
}

TEST(TopicTableTest, NameIsReusableAfterDeleteWithNewId) {
  testing::TempDir dir;
  auto table = TopicTable::Open(dir.path());
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
    auto table = TopicTable::Open(dir.path());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("kept", 1)).ok());
  }
  {
    std::ofstream out(dir.path() / "topics.log", std::ios::app | std::ios::binary);
    out << "deadbeef create half";  // A crash mid-append leaves no newline.
  }
  auto table = TopicTable::Open(dir.path());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_TRUE((*table)->Find("kept").has_value());
  ASSERT_TRUE((*table)->CreateTopic(Topic("after", 1)).ok());
  auto again = TopicTable::Open(dir.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(2u, (*again)->List().size());
}

TEST(TopicTableTest, CorruptionInTheMiddleFailsOpen) {
  testing::TempDir dir;
  {
    auto table = TopicTable::Open(dir.path());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("a", 1)).ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("b", 1)).ok());
  }
  {
    std::fstream f(dir.path() / "topics.log", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('Z');
  }
  auto table = TopicTable::Open(dir.path());
  EXPECT_TRUE(table.status().IsCorruption());
}

TEST(TopicTableTest, LongHistoryIsCompactedOnOpen) {
  testing::TempDir dir;
  {
    auto table = TopicTable::Open(dir.path());
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE((*table)->CreateTopic(Topic("stay", 2)).ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*table)->SetConfig("stay", "retention.ms", std::to_string(i)).ok());
    }
  }
  const auto before = std::filesystem::file_size(dir.path() / "topics.log");
  {
    auto table = TopicTable::Open(dir.path());
    ASSERT_TRUE(table.ok());
    EXPECT_EQ("99", (*table)->Find("stay")->configs.at("retention.ms"));
  }
  EXPECT_LT(std::filesystem::file_size(dir.path() / "topics.log"), before / 10);
  auto table = TopicTable::Open(dir.path());
  ASSERT_TRUE(table.ok());
  EXPECT_EQ("99", (*table)->Find("stay")->configs.at("retention.ms"));
  EXPECT_EQ(2, (*table)->Find("stay")->partition_count);
}

}  // namespace
}  // namespace sluice::cluster
