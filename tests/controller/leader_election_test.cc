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

TEST(LeaderElectionTest, BrokersShuttingDownAreNeverChosen) {
  const std::set<int32_t> live = {1, 2, 3};
  const std::set<int32_t> shutting = {2};
  // A new partition: neither leader nor ISR member.
  EXPECT_EQ(*DecideForLiveBrokers({2, 1, 3}, std::nullopt, live, shutting, false, 7),
            (zk::PartitionState{1, 0, 7, {1, 3}}));
  EXPECT_FALSE(DecideForLiveBrokers({2}, std::nullopt, live, shutting, false, 7));
  // A dead leader: the next ISR member not shutting down, and the one
  // shutting down stays in the ISR.
  EXPECT_EQ(*DecideForLiveBrokers({4, 2, 3}, S(4, 1, {4, 2, 3}), live, shutting, false, 7),
            (zk::PartitionState{3, 2, 7, {2, 3}}));
  // Nobody else in the ISR: offline, even with an unclean election allowed
  // (then the live replica not shutting down leads).
  EXPECT_EQ(*DecideForLiveBrokers({4, 2}, S(4, 1, {4, 2}), live, shutting, false, 7),
            (zk::PartitionState{-1, 2, 7, {4}}));
  EXPECT_EQ(*DecideForLiveBrokers({4, 2, 1}, S(4, 1, {4, 2}), live, shutting, true, 7),
            (zk::PartitionState{1, 2, 7, {1}}));
  // Leading already: it goes on leading.
  EXPECT_FALSE(DecideForLiveBrokers({2, 1}, S(2, 1, {2}), live, shutting, false, 7));
}

TEST(LeaderElectionTest, ControlledShutdownMovesLeadershipWithinTheIsr) {
  const std::set<int32_t> live = {1, 2, 3, 4};
  // Assignment order, among live ISR members not shutting down; everyone
  // shutting down leaves the ISR.
  EXPECT_EQ(*DecideForControlledShutdown({1, 4, 2, 3}, S(1, 5, {1, 2, 3, 4}), 1, live, {1, 4}, 7),
            (zk::PartitionState{2, 6, 7, {2, 3}}));
  // No one to take over (replication factor 1, or the rest out of the ISR).
  EXPECT_FALSE(DecideForControlledShutdown({1}, S(1, 5, {1}), 1, live, {1}, 7));
  EXPECT_FALSE(DecideForControlledShutdown({1, 2}, S(1, 5, {1}), 1, live, {1}, 7));
  EXPECT_FALSE(DecideForControlledShutdown({1, 2}, S(1, 5, {1, 2}), 1, {1}, {1}, 7));
}

TEST(LeaderElectionTest, ControlledShutdownTakesAFollowerOutOfTheIsr) {
  const std::set<int32_t> live = {1, 2, 3};
  EXPECT_EQ(*DecideForControlledShutdown({1, 2, 3}, S(1, 5, {1, 2, 3}), 2, live, {2}, 7),
            (zk::PartitionState{1, 6, 7, {1, 3}}));
  // Not in the ISR: nothing to change.
  EXPECT_FALSE(DecideForControlledShutdown({1, 2, 3}, S(1, 5, {1, 3}), 2, live, {2}, 7));
  // The last member of an offline partition's ISR stays.
  EXPECT_FALSE(DecideForControlledShutdown({1, 2}, S(-1, 5, {2}), 2, live, {2}, 7));
}

TEST(LeaderElectionTest, AnUncleanElectionOnDemandSkipsBrokersShuttingDown) {
  EXPECT_EQ(DecideUnclean({1, 2}, S(-1, 4, {1}), {2}, {2}, 7).outcome,
            UncleanElection::kNoneEligible);
  UncleanDecision d = DecideUnclean({1, 2, 3}, S(-1, 4, {1}), {2, 3}, {2}, 7);
  ASSERT_EQ(d.outcome, UncleanElection::kElect);
  EXPECT_EQ(d.next, (zk::PartitionState{3, 5, 7, {3}}));
  // A leader shutting down is live: nothing to elect.
  EXPECT_EQ(DecideUnclean({1, 2}, S(2, 4, {2}), {1, 2}, {2}, 7).outcome,
            UncleanElection::kNotNeeded);
}

}  // namespace
}  // namespace sluice::controller
