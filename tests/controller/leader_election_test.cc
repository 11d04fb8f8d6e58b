#include "controller/leader_election.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

zk::PartitionState S(int32_t leader, int32_t epoch, std::vector<int32_t> isr) {
  return zk::PartitionState{leader, epoch, 1, std::move(isr)};
}

TEST(LeaderElectionTest, ANewPartitionIsLedByItsFirstLiveReplica) {
  auto s = DecideForLiveBrokers({3, 1, 2}, std::nullopt, {1, 2}, false, 7);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (zk::PartitionState{1, 0, 7, {1, 2}}));
  EXPECT_FALSE(DecideForLiveBrokers({3}, std::nullopt, {1, 2}, false, 7));
}

TEST(LeaderElectionTest, ADeadLeaderIsReplacedFromTheIsrInAssignmentOrder) {
  // Assignment order, not ISR order, picks the leader.
  auto s = DecideForLiveBrokers({1, 3, 2}, S(1, 4, {1, 2, 3}), {2, 3}, false, 7);
  EXPECT_EQ(*s, (zk::PartitionState{3, 5, 7, {2, 3}}));
  // A live replica outside the ISR does not lead (clean election)...
  auto offline = DecideForLiveBrokers({1, 2}, S(1, 4, {1}), {2}, false, 7);
  EXPECT_EQ(*offline, (zk::PartitionState{-1, 5, 7, {1}}));
  // ...unless unclean election is allowed.
  auto unclean = DecideForLiveBrokers({1, 2}, S(1, 4, {1}), {2}, true, 7);
  EXPECT_EQ(*unclean, (zk::PartitionState{2, 5, 7, {2}}));
  // Offline already, still no ISR member: nothing to write.
  EXPECT_FALSE(DecideForLiveBrokers({1, 2}, S(-1, 5, {1}), {2}, false, 7));
  // The ISR member comes back: it leads.
  EXPECT_EQ(*DecideForLiveBrokers({1, 2}, S(-1, 5, {1}), {1, 2}, false, 7),
            (zk::PartitionState{1, 6, 7, {1}}));
  // Everyone gone: the old leader stays the ISR's last member.
  EXPECT_EQ(*DecideForLiveBrokers({1, 2, 3}, S(2, 1, {1, 2, 3}), {}, false, 7),
            (zk::PartitionState{-1, 2, 7, {2}}));
}

TEST(LeaderElectionTest, DeadFollowersLeaveTheIsr) {
  EXPECT_EQ(*DecideForLiveBrokers({1, 2, 3}, S(1, 0, {1, 2, 3}), {1, 2}, false, 7),
            (zk::PartitionState{1, 1, 7, {1, 2}}));
  // A dead follower already out of the ISR changes nothing.
  EXPECT_FALSE(DecideForLiveBrokers({1, 2, 3}, S(1, 0, {1, 2}), {1, 2}, false, 7));
}

TEST(LeaderElectionTest, PreferredLeader) {
  EXPECT_EQ(DecidePreferred({1, 2}, S(1, 0, {1, 2}), {1, 2}), PreferredElection::kNotNeeded);
  EXPECT_EQ(DecidePreferred({1, 2}, S(2, 0, {2}), {1, 2}), PreferredElection::kNotAvailable);
  EXPECT_EQ(DecidePreferred({1, 2}, S(2, 0, {2, 1}), {2}), PreferredElection::kNotAvailable);
  EXPECT_EQ(DecidePreferred({1, 2}, S(2, 0, {2, 1}), {1, 2}), PreferredElection::kElect);
}

TEST(LeaderElectionTest, UncleanElectionOnDemand) {
  // A live leader: nothing to elect.
  EXPECT_EQ(DecideUnclean({1, 2}, S(1, 0, {1}), {1, 2}, 7).outcome, UncleanElection::kNotNeeded);
  // Offline, its ISR member dead, a live replica outside it: that one leads alone.
  UncleanDecision d = DecideUnclean({1, 2, 3}, S(-1, 4, {1}), {3}, 7);
  ASSERT_EQ(d.outcome, UncleanElection::kElect);
  EXPECT_EQ(d.next, (zk::PartitionState{3, 5, 7, {3}}));
  // A live ISR member is preferred to a live replica outside the ISR,
  // whatever the assignment order (and the ISR keeps its live members).
  d = DecideUnclean({2, 3, 1}, S(-1, 4, {1, 3}), {1, 2}, 7);
  ASSERT_EQ(d.outcome, UncleanElection::kElect);
  EXPECT_EQ(d.next, (zk::PartitionState{1, 5, 7, {1}}));
  // The leader's broker is gone but the state still names it.
  d = DecideUnclean({1, 2}, S(1, 4, {1}), {2}, 7);
  ASSERT_EQ(d.outcome, UncleanElection::kElect);
  EXPECT_EQ(d.next, (zk::PartitionState{2, 5, 7, {2}}));
  // No live replica at all.
  EXPECT_EQ(DecideUnclean({1, 2}, S(-1, 4, {1}), {3}, 7).outcome, UncleanElection::kNoneEligible);
}

}  // namespace
}  // namespace sluice::controller
