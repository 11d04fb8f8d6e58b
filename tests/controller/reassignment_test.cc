#include "controller/reassignment.h"

#include <string>

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

using V = std::vector<int32_t>;

zk::PartitionState State(int32_t leader, int32_t epoch, V isr) {
  return zk::PartitionState{leader, epoch, 1, std::move(isr)};
}

TEST(ReassignmentTest, PlanPutsTheTargetFirstThenTheRemainingOriginals) {
  const ReplicaSet plan = PlanReassignment({{1, 2, 3}, {}, {}}, {2, 3, 4});
  EXPECT_EQ(plan.replicas, (V{2, 3, 4, 1}));
  EXPECT_EQ(plan.adding, (V{4}));
  EXPECT_EQ(plan.removing, (V{1}));
  EXPECT_TRUE(InProgress(plan));
  EXPECT_EQ(OriginalReplicas(plan), (V{2, 3, 1}));
  EXPECT_EQ(TargetReplicas(plan), (V{2, 3, 4}));

  // A whole move: nothing shared.
  const ReplicaSet move = PlanReassignment({{1, 2}, {}, {}}, {4, 3});
  EXPECT_EQ(move.replicas, (V{4, 3, 1, 2}));
  EXPECT_EQ(move.adding, (V{4, 3}));
  EXPECT_EQ(move.removing, (V{1, 2}));
}

TEST(ReassignmentTest, ATargetEqualToTheReplicasChangesNothing) {
  const ReplicaSet current{{1, 2, 3}, {}, {}};
  EXPECT_EQ(PlanReassignment(current, {1, 2, 3}), current);
  EXPECT_FALSE(InProgress(current));
  // A reorder changes only the order: nothing to add or remove.
  const ReplicaSet reorder = PlanReassignment(current, {3, 1, 2});
  EXPECT_EQ(reorder, (ReplicaSet{{3, 1, 2}, {}, {}}));
}

TEST(ReassignmentTest, CancellingRevertsToTheOriginalsAndRemovesTheAdded) {
  const ReplicaSet running = PlanReassignment({{1, 2, 3}, {}, {}}, {2, 3, 4});
  const ReplicaSet cancel = PlanReassignment(running, OriginalReplicas(running));
  EXPECT_EQ(TargetReplicas(cancel), (V{2, 3, 1}));
  EXPECT_TRUE(cancel.adding.empty());
  EXPECT_EQ(cancel.removing, (V{4}));
}

TEST(ReassignmentTest, ANewTargetDuringAReassignmentKeepsTheOriginalsAsOrs) {
  const ReplicaSet running = PlanReassignment({{1, 2, 3}, {}, {}}, {2, 3, 4});
  const ReplicaSet next = PlanReassignment(running, {2, 3, 5});
  EXPECT_EQ(next.replicas, (V{2, 3, 5, 4, 1}));
  EXPECT_EQ(next.adding, (V{5}));  // 4 was never an original: not "adding" now
  EXPECT_EQ(next.removing, (V{4, 1}));  // stopped and deleted with 1 at the end
}

TEST(ReassignmentTest, TargetsAreValidated) {
  std::string why;
  const std::set<int32_t> live = {1, 2, 3, 4};
  EXPECT_EQ(ValidateTarget({2, 3, 4}, live, &why), ReassignmentError::kNone);
  EXPECT_EQ(ValidateTarget({}, live, &why), ReassignmentError::kInvalidReplicaAssignment);
  EXPECT_EQ(ValidateTarget({2, 2}, live, &why), ReassignmentError::kInvalidReplicaAssignment);
  EXPECT_NE(why.find("twice"), std::string::npos);
  EXPECT_EQ(ValidateTarget({2, 9}, live, &why), ReassignmentError::kInvalidReplicaAssignment);
  EXPECT_NE(why.find("9"), std::string::npos);
  EXPECT_EQ(ValidateTarget({-1, 2}, live, &why), ReassignmentError::kInvalidReplicaAssignment);
}

TEST(ReassignmentTest, CompletionWaitsForEveryTargetReplicaInTheIsr) {
  EXPECT_FALSE(DecideReassignmentCompletion({2, 3, 4}, State(1, 5, {1, 2, 3}), {1, 2, 3, 4}, 7));
}

TEST(ReassignmentTest, CompletionShrinksTheIsrToTheTargetAndBumpsTheEpoch) {
  // The leader is a target replica: it stays.
  auto s = DecideReassignmentCompletion({2, 3, 4}, State(2, 5, {1, 2, 3, 4}), {1, 2, 3, 4}, 7);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (zk::PartitionState{2, 6, 7, {2, 3, 4}}));
}

TEST(ReassignmentTest, CompletionMovesALeaderOutsideTheTarget) {
  // ISR order is kept; the first electable target replica in target order leads.
  auto s = DecideReassignmentCompletion({3, 2, 4}, State(1, 5, {4, 1, 2, 3}), {1, 2, 3, 4}, 7);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (zk::PartitionState{3, 6, 7, {4, 2, 3}}));
  // A target replica shutting down (not electable) is passed over.
  auto t = DecideReassignmentCompletion({3, 2, 4}, State(1, 5, {1, 2, 3, 4}), {1, 2, 4}, 7);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->leader, 2);
  // A target leader that is no longer electable is replaced too.
  auto u = DecideReassignmentCompletion({2, 3}, State(2, 5, {2, 3}), {3}, 7);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->leader, 3);
  // No electable target replica: wait.
  EXPECT_FALSE(DecideReassignmentCompletion({2, 3}, State(1, 5, {1, 2, 3}), {1}, 7));
}

}  // namespace
}  // namespace sluice::controller
