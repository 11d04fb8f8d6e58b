// The topic znodes an admin request writes, against a real ZooKeeper server.
#include "controller/topic_writer.h"

#include <memory>

#include <gtest/gtest.h>

#include "support/zookeeper_ensemble.h"
#include "zk/znodes.h"

namespace sluice::controller {
namespace {

using testing::ZooKeeperEnsemble;

std::vector<BrokerPlacement> Brokers(std::initializer_list<int32_t> ids) {
  std::vector<BrokerPlacement> out;
  for (int32_t id : ids) out.push_back({id, std::nullopt});
  return out;
}

class TopicWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zk_.Start().ok());
    zk::ZkOptions o;
    o.connect = zk_.connect_string();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    client_ = std::move(*c);
  }

  zk::TopicAssignment ReadAssignment(const std::string& topic) {
    auto node = client_->Get(zk::TopicPath(topic));
    EXPECT_TRUE(node.ok()) << node.error().message();
    auto a = zk::DecodeTopicAssignment(node->data);
    EXPECT_TRUE(a.ok());
    return *a;
  }

  ZooKeeperEnsemble zk_{1};
  std::unique_ptr<zk::ZkClient> client_;
};

TEST_F(TopicWriterTest, CreateWritesTheAssignmentWithAnIdAndTheConfig) {
  const ReplicaAssignment assignment = {{0, {1, 2}}, {1, {2, 3}}, {2, {3, 1}}};
  const TopicUuid id = NewTopicUuid();
  ASSERT_TRUE(CreateTopicZnodes(*client_, "orders", assignment, {{"retention.ms", "1000"}}, id).ok());
  const zk::TopicAssignment a = ReadAssignment("orders");
  EXPECT_EQ(a.partitions, assignment);
  EXPECT_EQ(a.topic_id.size(), 22u);
  EXPECT_EQ(ParseTopicUuid(a.topic_id), id);
  auto config = client_->Get(zk::TopicConfigPath("orders"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*zk::DecodeTopicConfig(config->data),
            (std::map<std::string, std::string>{{"retention.ms", "1000"}}));

  // Again: the topic exists, and nothing is changed.
  Status again = CreateTopicZnodes(*client_, "orders", {{0, {1}}}, {}, NewTopicUuid());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAssignment("orders").topic_id, TopicUuidToString(id));
  EXPECT_EQ(*zk::DecodeTopicConfig(client_->Get(zk::TopicConfigPath("orders"))->data),
            (std::map<std::string, std::string>{{"retention.ms", "1000"}}));
}

TEST_F(TopicWriterTest, AConfigLeftWithoutItsTopicIsReplaced) {
  ASSERT_TRUE(client_->CreateRecursive(zk::TopicConfigPath("left"),
                                       zk::EncodeTopicConfig({{"cleanup.policy", "compact"}}))
                  .ok());
  ASSERT_TRUE(CreateTopicZnodes(*client_, "left", {{0, {1}}}, {}, NewTopicUuid()).ok());
  EXPECT_TRUE(zk::DecodeTopicConfig(client_->Get(zk::TopicConfigPath("left"))->data)->empty());
  EXPECT_EQ(ReadAssignment("left").partitions, (ReplicaAssignment{{0, {1}}}));
}

TEST_F(TopicWriterTest, AddPartitionsContinuesTheAssignment) {
  const auto brokers = Brokers({0, 1, 2, 3, 4});
  auto created = AssignReplicas(brokers, 5, 3, [](int32_t) { return 0; });
  ASSERT_TRUE(CreateTopicZnodes(*client_, "grow", *created, {}, NewTopicUuid()).ok());
  const std::string id = ReadAssignment("grow").topic_id;

  auto dry = AddPartitions(*client_, "grow", 8, brokers, std::nullopt, /*validate_only=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->added.size(), 3u);
  EXPECT_EQ(ReadAssignment("grow").partitions.size(), 5u);

  auto grown = AddPartitions(*client_, "grow", 8, brokers, std::nullopt);
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_EQ(grown->added, dry->added);
  EXPECT_EQ(grown->assignment_version, 1);
  const zk::TopicAssignment a = ReadAssignment("grow");
  EXPECT_EQ(a.partitions.size(), 8u);
  EXPECT_EQ(a.topic_id, id);  // The id stays.
  auto whole = AssignReplicas(brokers, 8, 3, [](int32_t) { return 0; });
  EXPECT_EQ(a.partitions, *whole);

  EXPECT_EQ(AddPartitions(*client_, "grow", 8, brokers, std::nullopt).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(AddPartitions(*client_, "none", 8, brokers, std::nullopt).status().code(),
            StatusCode::kNotFound);
  // Fewer live brokers than the topic's replication factor.
  EXPECT_EQ(AddPartitions(*client_, "grow", 9, Brokers({0, 1}), std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TopicWriterTest, AddPartitionsWithAClientsAssignmentChecksIt) {
  ASSERT_TRUE(CreateTopicZnodes(*client_, "manual", {{0, {1, 2}}}, {}, NewTopicUuid()).ok());
  const auto brokers = Brokers({1, 2, 3});
  auto bad_factor = AddPartitions(*client_, "manual", 2, brokers, ReplicaAssignment{{1, {3}}});
  EXPECT_EQ(bad_factor.status().code(), StatusCode::kInvalidArgument);
  auto dead_broker = AddPartitions(*client_, "manual", 2, brokers, ReplicaAssignment{{1, {3, 7}}});
  EXPECT_EQ(dead_broker.status().code(), StatusCode::kInvalidArgument);
  auto wrong_count =
      AddPartitions(*client_, "manual", 3, brokers, ReplicaAssignment{{1, {3, 1}}});
  EXPECT_EQ(wrong_count.status().code(), StatusCode::kInvalidArgument);
  auto ok = AddPartitions(*client_, "manual", 2, brokers, ReplicaAssignment{{1, {3, 1}}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ReadAssignment("manual").partitions, (ReplicaAssignment{{0, {1, 2}}, {1, {3, 1}}}));
}

TEST_F(TopicWriterTest, DeletionIsRequestedThroughTheAdminPath) {
  ASSERT_TRUE(CreateTopicZnodes(*client_, "doomed", {{0, {1}}}, {}, NewTopicUuid()).ok());
  ASSERT_TRUE(RequestTopicDeletion(*client_, "doomed").ok());
  EXPECT_TRUE(client_->Exists(zk::DeleteTopicPath("doomed"))->has_value());
  EXPECT_TRUE(RequestTopicDeletion(*client_, "doomed").ok());  // Already pending.
  EXPECT_EQ(RequestTopicDeletion(*client_, "never").code(), StatusCode::kNotFound);
  // While it is pending the topic can neither grow nor be created again.
  EXPECT_EQ(AddPartitions(*client_, "doomed", 2, Brokers({1}), std::nullopt).status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(CreateTopicZnodes(*client_, "doomed", {{0, {1}}}, {}, NewTopicUuid()).code(),
            StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace sluice::controller
