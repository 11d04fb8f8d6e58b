#include "controller/replica_assignment.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

std::vector<BrokerPlacement> Brokers(int32_t n, int32_t first_id = 0) {
  std::vector<BrokerPlacement> out;
  for (int32_t i = 0; i < n; ++i) out.push_back({first_id + i, std::nullopt});
  return out;
}

// Each broker's count of leaders (first replicas) and of replicas.
struct Counts {
  std::map<int32_t, int> leaders;
  std::map<int32_t, int> replicas;
};
Counts Count(const ReplicaAssignment& a, const std::vector<BrokerPlacement>& brokers) {
  Counts c;
  for (const BrokerPlacement& b : brokers) {
    c.leaders[b.id] = 0;
    c.replicas[b.id] = 0;
  }
  for (const auto& [p, replicas] : a) {
    ++c.leaders[replicas.front()];
    for (int32_t r : replicas) ++c.replicas[r];
  }
  return c;
}
int Spread(const std::map<int32_t, int>& m) {
  auto [lo, hi] = std::minmax_element(m.begin(), m.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
  return hi->second - lo->second;
}

// Every list of the right length, of distinct brokers, over partitions 0..n-1.
void ExpectWellFormed(const ReplicaAssignment& a, int32_t partitions, int32_t rf) {
  ASSERT_EQ(a.size(), static_cast<size_t>(partitions));
  int32_t expected = 0;
  for (const auto& [p, replicas] : a) {
    EXPECT_EQ(p, expected++);
    EXPECT_EQ(replicas.size(), static_cast<size_t>(rf));
    EXPECT_EQ(std::set<int32_t>(replicas.begin(), replicas.end()).size(), replicas.size())
        << "partition " << p;
  }
}

TEST(ReplicaAssignmentTest, LeadersAreEvenAndReplicasEvenOverWholeRoundsOfBrokers) {
  uint64_t seed = 1;
  for (int32_t brokers = 1; brokers <= 9; ++brokers) {
    for (int32_t rf = 1; rf <= std::min(brokers, 4); ++rf) {
      for (int32_t partitions : {1, 2, 3, 5, 7, 8, 12, 30, 64, 100}) {
        SCOPED_TRACE(::testing::Message() << brokers << " brokers, " << partitions
                                        << " partitions, factor " << rf);
        const auto bs = Brokers(brokers, 100);
        auto a = AssignReplicas(bs, partitions, rf, SeededRandomIndex(seed++));
        ASSERT_TRUE(a.ok()) << a.status().ToString();
        ExpectWellFormed(*a, partitions, rf);
        const Counts c = Count(*a, bs);
        EXPECT_LE(Spread(c.leaders), 1);
        if (partitions % brokers == 0) {
          EXPECT_EQ(Spread(c.replicas), 0);
        } else {
          // The last, partial round of brokers can overlap its followers
          // (see the header); the whole rounds before it are exact.
          EXPECT_LE(Spread(c.replicas), rf);
        }
      }
    }
  }
}

TEST(ReplicaAssignmentTest, APartialLastRoundIsNotEvenAsInKafka) {
  // The header's example: start and shift 0 over 5 brokers.
  auto a = AssignReplicas(Brokers(5), 2, 3, [](int32_t) { return 0; });
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a).at(0), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ((*a).at(1), (std::vector<int32_t>{1, 2, 3}));
}

TEST(ReplicaAssignmentTest, MatchesKafkasLayoutForAFixedStart) {
  // Kafka's AdminUtils with fixedStartIndex 0 over brokers 0..4, 10
  // partitions, factor 3 (its unit test's expected assignment).
  auto a = AssignReplicas(Brokers(5), 10, 3, [](int32_t) { return 0; });
  ASSERT_TRUE(a.ok());
  const ReplicaAssignment expected = {
      {0, {0, 1, 2}}, {1, {1, 2, 3}}, {2, {2, 3, 4}}, {3, {3, 4, 0}}, {4, {4, 0, 1}},
      {5, {0, 2, 3}}, {6, {1, 3, 4}}, {7, {2, 4, 0}}, {8, {3, 0, 1}}, {9, {4, 1, 2}}};
  EXPECT_EQ(*a, expected);
}

TEST(ReplicaAssignmentTest, TheSameSeedGivesTheSameAssignment) {
  auto a = AssignReplicas(Brokers(6), 24, 3, SeededRandomIndex(42));
  auto b = AssignReplicas(Brokers(6), 24, 3, SeededRandomIndex(42));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // And the order the brokers are given in does not matter.
  auto shuffled = Brokers(6);
  std::reverse(shuffled.begin(), shuffled.end());
  auto c = AssignReplicas(shuffled, 24, 3, SeededRandomIndex(42));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*a, *c);
  // Other seeds start elsewhere.
  std::set<ReplicaAssignment> seen;
  for (uint64_t s = 0; s < 20; ++s) seen.insert(*AssignReplicas(Brokers(6), 24, 3, SeededRandomIndex(s)));
  EXPECT_GT(seen.size(), 1u);
}

std::vector<BrokerPlacement> RackedBrokers(const std::vector<std::string>& racks) {
  std::vector<BrokerPlacement> out;
  for (size_t i = 0; i < racks.size(); ++i) out.push_back({static_cast<int32_t>(i), racks[i]});
  return out;
}

TEST(ReplicaAssignmentTest, ReplicasOfAPartitionAreOnDistinctRacks) {
  // Racks of unequal sizes, brokers listed rack by rack.
  const auto bs = RackedBrokers({"a", "a", "a", "b", "b", "c", "c", "c", "c"});
  std::map<int32_t, std::string> rack_of;
  for (const auto& b : bs) rack_of[b.id] = *b.rack;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    for (int32_t rf = 1; rf <= 3; ++rf) {
      auto a = AssignReplicas(bs, 27, rf, SeededRandomIndex(seed));
      ASSERT_TRUE(a.ok());
      ExpectWellFormed(*a, 27, rf);
      for (const auto& [p, replicas] : *a) {
        std::set<std::string> racks;
        for (int32_t r : replicas) racks.insert(rack_of[r]);
        EXPECT_EQ(racks.size(), replicas.size()) << "partition " << p << " seed " << seed;
      }
      EXPECT_LE(Spread(Count(*a, bs).leaders), 1);
    }
  }
  // More replicas than racks: every rack holds one, the rest spread.
  auto a = AssignReplicas(bs, 9, 5, SeededRandomIndex(7));
  ASSERT_TRUE(a.ok());
  for (const auto& [p, replicas] : *a) {
    std::set<std::string> racks;
    for (int32_t r : replicas) racks.insert(rack_of[r]);
    EXPECT_EQ(racks.size(), 3u);
  }
}

TEST(ReplicaAssignmentTest, EqualRacksGiveEvenReplicas) {
  const auto bs = RackedBrokers({"r1", "r1", "r2", "r2", "r3", "r3"});
  for (uint64_t seed = 0; seed < 10; ++seed) {
    auto a = AssignReplicas(bs, 12, 3, SeededRandomIndex(seed));
    ASSERT_TRUE(a.ok());
    const Counts c = Count(*a, bs);
    EXPECT_EQ(Spread(c.leaders), 0);
    EXPECT_EQ(Spread(c.replicas), 0);
  }
}

TEST(ReplicaAssignmentTest, SomeBrokersWithoutARackAreRefusedUnlessSafe) {
  std::vector<BrokerPlacement> bs = {{1, "a"}, {2, std::nullopt}, {3, "b"}};
  auto a = AssignReplicas(bs, 3, 2, SeededRandomIndex(1));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("broker.rack"), std::string::npos);
  auto safe = AssignReplicas(bs, 3, 2, SeededRandomIndex(1), RackMode::kSafe);
  ASSERT_TRUE(safe.ok());
  ExpectWellFormed(*safe, 3, 2);
}

TEST(ReplicaAssignmentTest, Errors) {
  auto zero_partitions = AssignReplicas(Brokers(3), 0, 1, SeededRandomIndex(1));
  EXPECT_EQ(zero_partitions.status().code(), StatusCode::kOutOfRange);
  auto negative_rf = AssignReplicas(Brokers(3), 1, -1, SeededRandomIndex(1));
  EXPECT_EQ(negative_rf.status().code(), StatusCode::kInvalidArgument);
  auto zero_rf = AssignReplicas(Brokers(3), 1, 0, SeededRandomIndex(1));
  EXPECT_EQ(zero_rf.status().code(), StatusCode::kInvalidArgument);
  auto too_many = AssignReplicas(Brokers(3), 1, 4, SeededRandomIndex(1));
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("larger than available brokers: 3"),
            std::string::npos);
  auto no_brokers = AssignReplicas({}, 1, 1, SeededRandomIndex(1));
  EXPECT_EQ(no_brokers.status().code(), StatusCode::kInvalidArgument);
}

TEST(ReplicaAssignmentTest, AddedPartitionsContinueTheTopicsWalk) {
  // Created with start 0: partitions 0..4 as in Kafka's layout above.
  const auto bs = Brokers(5);
  auto created = AssignReplicas(bs, 5, 3, [](int32_t) { return 0; });
  ASSERT_TRUE(created.ok());
  auto added = AssignAddedPartitions(bs, *created, 10);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  // The new partitions are the ones a 10-partition creation would have made.
  auto whole = AssignReplicas(bs, 10, 3, [](int32_t) { return 0; });
  ASSERT_EQ(added->size(), 5u);
  for (const auto& [p, replicas] : *added) EXPECT_EQ(replicas, whole->at(p)) << p;
  EXPECT_EQ(added->begin()->first, 5);

  auto not_more = AssignAddedPartitions(bs, *created, 5);
  EXPECT_EQ(not_more.status().code(), StatusCode::kOutOfRange);
  // Fewer live brokers than the topic's replication factor.
  auto few = AssignAddedPartitions(Brokers(2), *created, 6);
  EXPECT_EQ(few.status().code(), StatusCode::kInvalidArgument);
  auto gap = AssignAddedPartitions(bs, ReplicaAssignment{{0, {1}}, {2, {2}}}, 4);
  EXPECT_EQ(gap.status().code(), StatusCode::kInvalidArgument);
}

TEST(ReplicaAssignmentTest, AddedPartitionsStartAtTheFirstBrokerFromPartitionZerosLeader) {
  // Partition 0 led by broker 3, which is gone: the walk starts at broker 4.
  std::vector<BrokerPlacement> bs = {{1, std::nullopt}, {2, std::nullopt}, {4, std::nullopt}};
  auto added = AssignAddedPartitions(bs, ReplicaAssignment{{0, {3, 1}}}, 2);
  ASSERT_TRUE(added.ok());
  // start index 2 (broker 4), partition 1: first index (1 + 2) % 3 = 0.
  EXPECT_EQ(added->at(1).front(), 1);
  EXPECT_EQ(added->at(1).size(), 2u);
}

TEST(ReplicaAssignmentTest, ExplicitAssignmentsAreChecked) {
  const std::set<int32_t> live = {1, 2, 3};
  EXPECT_TRUE(ValidateExplicitAssignment({{0, {1, 2}}, {1, {2, 3}}}, live).ok());
  auto expect_error = [&](const ReplicaAssignment& a, const std::string& words,
                          int32_t first = 0, int32_t rf = -1) {
    Status s = ValidateExplicitAssignment(a, live, first, rf);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  expect_error({}, "empty");
  expect_error({{0, {1, 2}}, {1, {2}}}, "same number of replicas");
  expect_error({{0, {1, 1}}}, "duplicate");
  expect_error({{0, {1, 4}}}, "broker 4");
  expect_error({{0, {1}}, {2, {2}}}, "partition 1 is missing");
  expect_error({{1, {1}}}, "partition 0 is missing");
  expect_error({{0, {}}}, "no replicas");
  // CreatePartitions: numbered from the existing count, the topic's factor.
  EXPECT_TRUE(ValidateExplicitAssignment({{3, {1, 2}}, {4, {3, 1}}}, live, 3, 2).ok());
  expect_error({{3, {1, 2, 3}}}, "not 2", 3, 2);
  expect_error({{4, {1, 2}}}, "partition 3 is missing", 3, 2);
}

}  // namespace
}  // namespace sluice::controller
