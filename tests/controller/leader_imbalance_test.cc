#include "controller/leader_imbalance.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

// A partition assigned `replicas`, led by `leader` with `isr`.
PartitionModel P(std::vector<int32_t> replicas, int32_t leader, std::vector<int32_t> isr) {
  PartitionModel m;
  m.replicas = std::move(replicas);
  m.state = zk::PartitionState{leader, 1, 1, std::move(isr)};
  m.version = 1;
  return m;
}

PartitionModel WithoutState(std::vector<int32_t> replicas) {
  PartitionModel m;
  m.replicas = std::move(replicas);
  return m;
}

TEST(LeaderImbalanceTest, CountsPerPreferredBroker) {
  std::map<std::string, TopicModel> topics;
  topics["a"].partitions = {{0, P({1, 2}, 1, {1, 2})},
                            {1, P({2, 1}, 1, {1, 2})},   // 2 preferred, 1 leads
                            {2, P({1, 2}, -1, {1})},     // offline: not led by 1
                            {3, WithoutState({1, 2})}};  // no state: counted, not led elsewhere
  topics["b"].partitions = {{0, P({2, 1}, 2, {2, 1})}};
  auto imbalance = LeaderImbalance(topics);
  ASSERT_EQ(imbalance.size(), 2u);
  EXPECT_EQ(imbalance.at(1).preferred, 3);
  EXPECT_EQ(imbalance.at(1).not_led, 1);
  EXPECT_DOUBLE_EQ(imbalance.at(1).ratio(), 1.0 / 3);
  EXPECT_EQ(imbalance.at(2).preferred, 2);
  EXPECT_EQ(imbalance.at(2).not_led, 1);
  EXPECT_DOUBLE_EQ(imbalance.at(2).ratio(), 0.5);
  EXPECT_TRUE(LeaderImbalance({}).empty());
}

TEST(LeaderImbalanceTest, ABalancedClusterMovesNothing) {
  std::map<std::string, TopicModel> topics;
  topics["t"].partitions = {{0, P({1, 2, 3}, 1, {1, 2, 3})},
                            {1, P({2, 3, 1}, 2, {1, 2, 3})},
                            {2, P({3, 1, 2}, 3, {1, 2, 3})}};
  EXPECT_TRUE(PartitionsToRebalance(topics, {1, 2, 3}, 10).empty());
  EXPECT_TRUE(PartitionsToRebalance(topics, {1, 2, 3}, 0).empty());
}

TEST(LeaderImbalanceTest, ARestartedBrokerGetsItsPartitionsBackOnceInTheIsr) {
  // Broker 1 restarted: its two preferred partitions are led by 2 and 3.
  std::map<std::string, TopicModel> topics;
  topics["t"].partitions = {{0, P({1, 2, 3}, 2, {2, 3, 1})},
                            {1, P({2, 3, 1}, 2, {2, 3, 1})},
                            {2, P({3, 1, 2}, 3, {3, 1, 2})},
                            {3, P({1, 3, 2}, 3, {3, 2})}};  // 1 not back in this ISR yet
  EXPECT_EQ(PartitionsToRebalance(topics, {1, 2, 3}, 10), (std::vector<TopicPartition>{{"t", 0}}));
  // While 1 is not live, nothing can move to it.
  EXPECT_TRUE(PartitionsToRebalance(topics, {2, 3}, 10).empty());
}

TEST(LeaderImbalanceTest, TheRatioMustExceedThePercentage) {
  // Broker 1 prefers 4 partitions and leads 3 of them: 25%.
  std::map<std::string, TopicModel> topics;
  topics["t"].partitions = {{0, P({1, 2}, 1, {1, 2})},
                            {1, P({1, 2}, 1, {1, 2})},
                            {2, P({1, 2}, 1, {1, 2})},
                            {3, P({1, 2}, 2, {2, 1})}};
  EXPECT_EQ(PartitionsToRebalance(topics, {1, 2}, 10), (std::vector<TopicPartition>{{"t", 3}}));
  EXPECT_EQ(PartitionsToRebalance(topics, {1, 2}, 24), (std::vector<TopicPartition>{{"t", 3}}));
  EXPECT_TRUE(PartitionsToRebalance(topics, {1, 2}, 25).empty());  // Not above: equal.
  EXPECT_TRUE(PartitionsToRebalance(topics, {1, 2}, 100).empty());
}

TEST(LeaderImbalanceTest, OnlyTheImbalancedBrokersPartitionsMove) {
  // Broker 1: 1 of 10 preferred partitions elsewhere (10%, not above 10).
  // Broker 2: 1 of 2 (50%).
  std::map<std::string, TopicModel> topics;
  for (int32_t p = 0; p < 9; ++p) topics["a"].partitions[p] = P({1, 2}, 1, {1, 2});
  topics["a"].partitions[9] = P({1, 2}, 2, {1, 2});
  topics["b"].partitions = {{0, P({2, 1}, 2, {1, 2})}, {1, P({2, 1}, 1, {1, 2})}};
  EXPECT_EQ(PartitionsToRebalance(topics, {1, 2}, 10), (std::vector<TopicPartition>{{"b", 1}}));
  EXPECT_EQ(PartitionsToRebalance(topics, {1, 2}, 9),
            (std::vector<TopicPartition>{{"a", 9}, {"b", 1}}));
}

}  // namespace
}  // namespace sluice::controller
