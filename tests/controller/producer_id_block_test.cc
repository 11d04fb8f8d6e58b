// Producer id blocks reserved in ZooKeeper by several brokers at once never
// overlap: the ids every broker hands out are unique in the cluster.
#include "controller/producer_id_block.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "support/zookeeper_ensemble.h"
#include "zk/znodes.h"

namespace sluice::controller {
namespace {

TEST(ProducerIdBlockTest, ConcurrentReservationsNeverOverlap) {
  testing::ZooKeeperEnsemble zk(1);
  ASSERT_TRUE(zk.Start().ok());
  constexpr int kBrokers = 3;
  constexpr int kBlocksEach = 15;
  std::vector<std::unique_ptr<zk::ZkClient>> clients;
  for (int i = 0; i < kBrokers; ++i) {
    zk::ZkOptions o;
    o.connect = zk.connect_string();
    auto c = zk::ZkClient::Connect(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    clients.push_back(std::move(*c));
  }
  std::vector<std::vector<int64_t>> starts(kBrokers);
  std::vector<std::thread> threads;
  for (int b = 0; b < kBrokers; ++b) {
    threads.emplace_back([&, b] {
      for (int i = 0; i < kBlocksEach; ++i) {
        Result<int64_t> start = ReserveProducerIdBlock(*clients[b], b + 1, 1000);
        ASSERT_TRUE(start.ok()) << start.status().ToString();
        starts[b].push_back(*start);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<int64_t> all;
  for (const auto& s : starts) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(static_cast<size_t>(kBrokers * kBlocksEach), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(static_cast<int64_t>(i) * 1000, all[i]);
  auto node = clients[0]->Get(zk::kProducerIdBlockPath);
  ASSERT_TRUE(node.ok());
  auto last = zk::DecodeProducerIdBlock(node->data);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(kBrokers * kBlocksEach * 1000 - 1, last->end);
}

TEST(ProducerIdBlockTest, TheZnodeKeepsKafkasFormat) {
  const zk::ProducerIdBlock b{2, 1000, 1999};
  auto decoded = zk::DecodeProducerIdBlock(zk::EncodeProducerIdBlock(b));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(b, *decoded);
  auto kafka = zk::DecodeProducerIdBlock(
      R"({"version":1,"broker":3,"block_start":"5000","block_end":"5999"})");
  ASSERT_TRUE(kafka.ok());
  EXPECT_EQ((zk::ProducerIdBlock{3, 5000, 5999}), *kafka);
  EXPECT_FALSE(zk::DecodeProducerIdBlock(R"({"broker":3,"block_start":5,"block_end":"9"})").ok());
  EXPECT_FALSE(zk::DecodeProducerIdBlock(R"({"broker":3,"block_start":"9","block_end":"5"})").ok());
  EXPECT_FALSE(zk::DecodeProducerIdBlock("nonsense").ok());
}

}  // namespace
}  // namespace sluice::controller
