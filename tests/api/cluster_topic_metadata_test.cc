// Metadata in a cluster: a partition whose leader is not a live broker is
// answered without a leader (LEADER_NOT_AVAILABLE), never with the dead
// broker, while the controller's update naming the new one is on its way.
#include "api/handlers/cluster_topic_metadata.h"

#include <gtest/gtest.h>

#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

cluster::TopicMetadata Topic() {
  cluster::TopicMetadata t;
  cluster::PartitionMetadata& p0 = t.partitions[0];
  p0.leader = 2;
  p0.leader_epoch = 4;
  p0.replicas = {2, 1, 3};
  p0.isr = {2, 1, 3};
  cluster::PartitionMetadata& p1 = t.partitions[1];
  p1.leader = 1;
  p1.leader_epoch = 7;
  p1.replicas = {1, 2, 3};
  p1.isr = {1, 3};
  p1.offline_replicas = {2};
  cluster::PartitionMetadata& p2 = t.partitions[2];
  p2.leader = -1;
  p2.leader_epoch = 3;
  p2.replicas = {2};
  p2.isr = {2};
  return t;
}

TEST(ClusterTopicMetadataTest, EveryLeaderLiveIsAnsweredAsCached) {
  auto t = DescribeClusterTopic("t", Topic(), {1, 2, 3});
  EXPECT_EQ(t.name, "t");
  ASSERT_EQ(t.partitions.size(), 3u);
  EXPECT_EQ(t.partitions[0].leader_id, 2);
  EXPECT_EQ(t.partitions[0].leader_epoch, 4);
  EXPECT_EQ(t.partitions[0].error_code, ToWire(ErrorCode::NONE));
  EXPECT_EQ(t.partitions[1].leader_id, 1);
  EXPECT_EQ(t.partitions[1].isr_nodes, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(t.partitions[1].offline_replicas, (std::vector<int32_t>{2}));
  EXPECT_EQ(t.partitions[2].leader_id, -1);
  EXPECT_EQ(t.partitions[2].error_code, ToWire(ErrorCode::LEADER_NOT_AVAILABLE));
}

TEST(ClusterTopicMetadataTest, ALeaderWhoseRegistrationIsGoneIsNoLeader) {
  // Broker 2 is gone from ZooKeeper; the cache still names it for p0.
  auto t = DescribeClusterTopic("t", Topic(), {1, 3});
  ASSERT_EQ(t.partitions.size(), 3u);
  EXPECT_EQ(t.partitions[0].leader_id, -1);
  EXPECT_EQ(t.partitions[0].error_code, ToWire(ErrorCode::LEADER_NOT_AVAILABLE));
  // Replicas, ISR and epoch stay as cached: only the leader is withheld.
  EXPECT_EQ(t.partitions[0].replica_nodes, (std::vector<int32_t>{2, 1, 3}));
  EXPECT_EQ(t.partitions[0].leader_epoch, 4);
  EXPECT_EQ(t.partitions[1].leader_id, 1);
  EXPECT_EQ(t.partitions[1].error_code, ToWire(ErrorCode::NONE));
}

}  // namespace
}  // namespace sluice::api
