// ReplicaSet: the ISR rules a leader applies (Kafka's ISR protocol): the
// high watermark is the smallest durable end offset over the ISR, a
// follower leaves the ISR after replica.lag.time.max.ms without catching
// up, and rejoins once it reaches the high watermark and the current epoch.
#include "cluster/replica_set.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::cluster {
namespace {

using Ids = std::vector<int32_t>;

TEST(ReplicaSetTest, HighWatermarkIsTheSmallestEndOffsetOverTheIsr) {
  ReplicaSet set;
  set.Reset(1, {1, 2, 3}, {1, 2, 3}, 0);
  // Followers that never fetched hold the watermark at the start.
  EXPECT_EQ(-1, set.CommittableOffset(100));
  set.RecordFetch(2, 40, 100, 10);
  EXPECT_EQ(-1, set.CommittableOffset(100));
  set.RecordFetch(3, 70, 100, 10);
  EXPECT_EQ(40, set.CommittableOffset(100));
  // The leader's own flushed offset bounds it too.
  EXPECT_EQ(30, set.CommittableOffset(30));
  // A follower outside the ISR does not hold it back.
  set.SetIsr({1, 3}, 20);
  EXPECT_EQ(70, set.CommittableOffset(100));
  // A single replica: the flushed offset alone.
  ReplicaSet alone;
  alone.Reset(5, {5}, {5}, 0);
  EXPECT_EQ(12, alone.CommittableOffset(12));
  EXPECT_FALSE(alone.has_followers());
}

TEST(ReplicaSetTest, AFollowerThatStopsCatchingUpLeavesAfterTheLagTime) {
  ReplicaSet set;
  set.Reset(1, {1, 2, 3}, {1, 2, 3}, /*now_ms=*/1000);
  // Both caught up at t=1000 by the reset; nothing is due until the lag passes.
  EXPECT_FALSE(set.IsrWithoutLagging(1000 + 500, 500).has_value());
  // Follower 2 keeps fetching at the leader's end; follower 3 stops.
  set.RecordFetch(2, 10, 10, 1400);
  set.RecordFetch(3, 10, 10, 1400);
  set.RecordFetch(2, 20, 20, 1800);
  auto shrunk = set.IsrWithoutLagging(1900, 500);
  EXPECT_FALSE(shrunk.has_value()) << "3 caught up at 1400, exactly the lag time before";
  shrunk = set.IsrWithoutLagging(1901, 500);
  ASSERT_TRUE(shrunk.has_value());
  EXPECT_EQ((Ids{1, 2}), *shrunk);
}

TEST(ReplicaSetTest, FetchingBehindButHavingThePreviousEndCountsAsCaughtUpThen) {
  ReplicaSet set;
  set.Reset(1, {1, 2}, {1, 2}, 0);
  // The leader keeps appending; the follower is always one round behind.
  set.RecordFetch(2, 0, 50, 1000);   // leader had 50 at t=1000
  set.RecordFetch(2, 50, 90, 2000);  // has what the leader had at 1000
  set.RecordFetch(2, 90, 130, 3000); // ... at 2000
  // Caught up as of t=2000 (its previous fetch): not lagging at 3400 with 1500 ms.
  EXPECT_FALSE(set.IsrWithoutLagging(3400, 1500).has_value());
  // But lagging at 3600 with 1500 ms: nothing proves it caught up after 2000.
  EXPECT_TRUE(set.IsrWithoutLagging(3600, 1500).has_value());
}

TEST(ReplicaSetTest, AFollowerRejoinsAtTheHighWatermarkAndTheCurrentEpoch) {
  ReplicaSet set;
  set.Reset(1, {1, 2, 3}, {1, 2}, 0);
  set.RecordFetch(2, 100, 100, 10);
  set.RecordFetch(3, 80, 100, 10);
  EXPECT_FALSE(set.IsrWithCaughtUp(/*high_watermark=*/100, /*epoch_start=*/0, 20, 1000).has_value());
  set.RecordFetch(3, 100, 100, 20);
  // At the high watermark but short of where the leader's epoch starts.
  EXPECT_FALSE(set.IsrWithCaughtUp(100, 120, 20, 1000).has_value());
  // Not heard from for longer than the lag allowed (stopped on an idle
  // partition): not proposed.
  EXPECT_FALSE(set.IsrWithCaughtUp(100, 90, 1100, 1000).has_value());
  auto grown = set.IsrWithCaughtUp(100, 90, 1000, 1000);
  ASSERT_TRUE(grown.has_value());
  EXPECT_EQ((Ids{1, 2, 3}), *grown);
  set.SetIsr(*grown, 30);
  EXPECT_TRUE(set.InIsr(3));
  EXPECT_EQ(100, set.CommittableOffset(100));
}

}  // namespace
}  // namespace sluice::cluster
