// meta.properties: which broker and cluster a data directory belongs to.
#include "cluster/meta_properties.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

storage::FileSystem* Fs() { return storage::FileSystem::Default(); }

TEST(MetaPropertiesTest, ASingleNodeGetsANewClusterIdOnce) {
  testing::TempDir dir;
  auto none = ReadMetaProperties(Fs(), dir.path());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto made = LoadOrCreateMetaProperties(Fs(), dir.path(), 3);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->broker_id, 3);
  EXPECT_EQ(made->cluster_id.size(), 22u);
  auto again = LoadOrCreateMetaProperties(Fs(), dir.path(), 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cluster_id, made->cluster_id);
  auto read = ReadMetaProperties(Fs(), dir.path());
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->cluster_id, made->cluster_id);
  EXPECT_FALSE(LoadOrCreateMetaProperties(Fs(), dir.path(), 4).ok());  // Another broker's.
}

TEST(MetaPropertiesTest, AJoiningBrokerRecordsTheClusterIdAndRefusesAnother) {
  testing::TempDir dir;
  auto made = LoadOrCreateMetaProperties(Fs(), dir.path(), 1, "clusterAAAAAAAAAAAAAAA");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->cluster_id, "clusterAAAAAAAAAAAAAAA");
  EXPECT_TRUE(LoadOrCreateMetaProperties(Fs(), dir.path(), 1, "clusterAAAAAAAAAAAAAAA").ok());
  EXPECT_TRUE(LoadOrCreateMetaProperties(Fs(), dir.path(), 1).ok());  // As a single node.
  auto other = LoadOrCreateMetaProperties(Fs(), dir.path(), 1, "clusterBBBBBBBBBBBBBBB");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument) << other.status().ToString();
  EXPECT_NE(other.status().message().find("belongs to cluster clusterAAAAAAAAAAAAAAA"),
            std::string::npos)
      << other.status().message();
}

}  // namespace
}  // namespace sluice::cluster
