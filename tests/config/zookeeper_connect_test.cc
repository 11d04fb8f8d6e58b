#include "config/zookeeper_connect.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

using Servers = std::vector<std::pair<std::string, uint16_t>>;

TEST(ZkConnectTest, ServersAndChroot) {
  auto one = ParseZkConnect("127.0.0.1:2181");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->servers, (Servers{{"127.0.0.1", 2181}}));
  EXPECT_EQ(one->chroot, "");

  auto many = ParseZkConnect("zk1:2181,zk2.example:2182,[::1]:2183/kafka/prod");
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->servers, (Servers{{"zk1", 2181}, {"zk2.example", 2182}, {"::1", 2183}}));
  EXPECT_EQ(many->chroot, "/kafka/prod");

  auto root = ParseZkConnect("zk1:2181/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->chroot, "");
}

TEST(ZkConnectTest, Malformed) {
  for (const char* bad : {"", "/sluice", "zk1", "zk1:", "zk1:x", "zk1:65536", "zk1:2181,",
                          ",zk1:2181", "zk 1:2181", "[::1:2181", "[::1]2181", "zk1:2181/a/",
                          "zk1:2181//a", "zk1:2181/./a", "zk1:2181/a\tb"}) {
    EXPECT_FALSE(ParseZkConnect(bad).ok()) << "'" << bad << "' was accepted";
  }
}

}  // namespace
}  // namespace sluice::config
