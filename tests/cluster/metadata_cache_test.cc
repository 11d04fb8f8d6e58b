// MetadataCache: the controller's UpdateMetadata applied in order, a stale
// controller's ignored, deletions removing partitions and then topics, and
// readers holding a snapshot unaffected by later updates.
#include "cluster/metadata_cache.h"

#include <gtest/gtest.h>

namespace sluice::cluster {
namespace {

PartitionUpdate Update(const std::string& topic, int32_t p, int32_t leader, int32_t epoch) {
  PartitionUpdate u;
  u.topic = topic;
  u.partition = p;
  u.state.leader = leader;
  u.state.leader_epoch = epoch;
  u.state.replicas = {1, 2, 3};
  u.state.isr = {1, 2, 3};
  return u;
}

TEST(MetadataCacheTest, AppliesUpdatesAndIgnoresAStaleController) {
  MetadataCache cache;
  ASSERT_TRUE(cache.Update(3, {Update("a", 0, 1, 0), Update("a", 1, 2, 0), Update("b", 0, 3, 0)}));
  auto before = cache.Current();
  ASSERT_TRUE(cache.Update(3, {Update("a", 0, 2, 1)}));
  EXPECT_EQ(1, before->topics.at("a").partitions.at(0).leader) << "a held snapshot never changes";
  EXPECT_EQ(2, cache.Current()->topics.at("a").partitions.at(0).leader);
  EXPECT_EQ(2u, cache.Current()->topics.at("a").partitions.size());
  // An older controller's word is dropped whole.
  EXPECT_FALSE(cache.Update(2, {Update("a", 0, 3, 9)}));
  EXPECT_EQ(2, cache.Current()->topics.at("a").partitions.at(0).leader);
  // A newer controller's is applied.
  EXPECT_TRUE(cache.Update(4, {Update("a", 0, 3, 2)}));
  EXPECT_EQ(3, cache.Current()->topics.at("a").partitions.at(0).leader);
}

TEST(MetadataCacheTest, DeletedPartitionsGoAndTheirTopicWithTheLast) {
  MetadataCache cache;
  ASSERT_TRUE(cache.Update(1, {Update("t", 0, 1, 0), Update("t", 1, 2, 0)}));
  ASSERT_TRUE(cache.Update(1, {Update("t", 0, PartitionUpdate::kDeleted, 0)}));
  ASSERT_EQ(1u, cache.Current()->topics.count("t"));
  EXPECT_EQ(0u, cache.Current()->topics.at("t").partitions.count(0));
  ASSERT_TRUE(cache.Update(1, {Update("t", 1, PartitionUpdate::kDeleted, 0)}));
  EXPECT_EQ(0u, cache.Current()->topics.count("t"));
}

TEST(MetadataCacheTest, WaitersRunOnceAfterTheNextAcceptedUpdate) {
  MetadataCache cache;
  ASSERT_TRUE(cache.Update(5, {Update("a", 0, 1, 0)}));
  int ran = 0;
  int32_t seen_leader = -1;
  cache.AddWaiter([&] {
    ++ran;
    seen_leader = cache.Current()->topics.at("a").partitions.at(0).leader;
  });
  const uint64_t removed = cache.AddWaiter([&] { ran += 100; });
  EXPECT_TRUE(cache.RemoveWaiter(removed));
  EXPECT_FALSE(cache.Update(4, {Update("a", 0, 3, 1)}));
  EXPECT_EQ(0, ran) << "a refused update wakes nobody";
  ASSERT_TRUE(cache.Update(5, {Update("a", 0, 2, 1)}));
  EXPECT_EQ(1, ran);
  EXPECT_EQ(2, seen_leader) << "the waiter sees the update it was woken by";
  ASSERT_TRUE(cache.Update(5, {Update("a", 0, 3, 2)}));
  EXPECT_EQ(1, ran) << "once only";
  EXPECT_FALSE(cache.RemoveWaiter(removed));
}

TEST(MetadataCacheTest, LeaderChangesApplyOnlyWhenTheirEpochIsNewer) {
  MetadataCache cache;
  PartitionUpdate known = Update("t", 0, 1, 4);
  known.state.offline_replicas = {3};
  ASSERT_TRUE(cache.Update(2, {known, Update("t", 1, 2, 7)}));
  // The same epoch (an ISR change UpdateMetadata already told) or an older
  // one changes nothing; a newer one does, keeping the offline replicas.
  PartitionUpdate same = Update("t", 1, 3, 7);
  PartitionUpdate moved = Update("t", 0, 2, 5);
  moved.state.isr = {2, 1};
  ASSERT_TRUE(cache.ApplyLeaderChanges(2, {same, moved, Update("new", 0, 1, 0)}));
  const auto& t = cache.Current()->topics.at("t").partitions;
  EXPECT_EQ(t.at(1).leader, 2);
  EXPECT_EQ(t.at(0).leader, 2);
  EXPECT_EQ(t.at(0).leader_epoch, 5);
  EXPECT_EQ(t.at(0).isr, (std::vector<int32_t>{2, 1}));
  EXPECT_EQ(t.at(0).offline_replicas, (std::vector<int32_t>{3}));
  EXPECT_EQ(cache.Current()->topics.at("new").partitions.at(0).leader, 1);
  // A stale controller's LeaderAndIsr is not applied.
  EXPECT_FALSE(cache.ApplyLeaderChanges(1, {Update("t", 0, 3, 9)}));
  EXPECT_EQ(cache.Current()->topics.at("t").partitions.at(0).leader, 2);
}

}  // namespace
}  // namespace sluice::cluster
