// A network partition: broker 3 runs in its own network namespace, joined
// to the rest of the cluster by one veth link, and the link is cut for
// longer than its ZooKeeper session. The others must see its session
// expire, elect new leaders for what it led, and keep acknowledging writes;
// once the link is back, broker 3 must learn that its session expired,
// register again, truncate whatever it appended as a leader cut off from
// its followers, catch up and rejoin every ISR; and the checker must find
// every acknowledged write exactly once (queue_fault_test.h).
//
// ZooKeeper and brokers 1 and 2 listen on the root end of the veth (an
// address of the root namespace, so their traffic among themselves stays
// local), broker 3 on the namespace's end.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <thread>

#include "faults/queue_fault_test.h"
#include "support/network_namespace.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr int32_t kIsolated = 3;

class NetworkPartitionTest : public QueueFaultTest {
 protected:
  void SetUp() override {
    std::string why_not;
    netns_ = NetworkNamespace::Create(&why_not);
    if (!netns_) GTEST_SKIP() << why_not;
    cluster_ = std::make_unique<BrokerCluster>(
        BrokerClusterOptions{.host = netns_->outer_address()});
    cluster_->Configure(kIsolated, BrokerSetup{.host = netns_->inner_address(),
                                               .exec_prefix = netns_->exec_prefix()});
  }
  void TearDown() override {
    QueueFaultTest::TearDown();  // The broker inside goes before its namespace.
    netns_.reset();
  }

  std::unique_ptr<NetworkNamespace> netns_;
};

TEST_F(NetworkPartitionTest, AnIsolatedBrokerLosesItsSessionAndRejoinsAfterTheCut) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::set<int32_t> led = cluster_->LedBy(kIsolated, kTopic, kPartitions);
  const bool was_controller = cluster_->Controller() == kIsolated;

  const auto cut_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(netns_->Cut().ok());
  // The cut lasts at least until ZooKeeper expires the session of broker 3
  // (its registration goes), which takes the session timeout or more.
  ASSERT_TRUE(WaitUntil([&] { return !cluster_->LiveIds().contains(kIsolated); }, 30s))
      << "ZooKeeper never expired the isolated broker's session\n"
      << cluster_->Outputs();
  ASSERT_TRUE(WaitForLeadersOtherThan(kIsolated))
      << "the partitions of the isolated broker got no new leader\n"
      << cluster_->Outputs();
  ASSERT_TRUE(WaitUntil([&] {
    const int32_t c = cluster_->Controller();
    return c > 0 && c != kIsolated;
  })) << cluster_->Outputs();
  EXPECT_TRUE(WaitForProgress(100)) << "brokers 1 and 2 go on acknowledging writes\n"
                                    << cluster_->Outputs();
  // ZooKeeper counts the session timeout from the broker's last ping, which
  // may precede the cut, so the expiry alone does not make the cut longer
  // than the timeout: it is held to twice that on the steady clock, while
  // checking that the isolated broker stays out of the cluster.
  while (std::chrono::steady_clock::now() - cut_at < 2 * std::chrono::milliseconds(BrokerClusterOptions{}.session_timeout_ms)) {
    ASSERT_FALSE(cluster_->LiveIds().contains(kIsolated))
        << "the isolated broker registered across a cut link";
    std::this_thread::sleep_for(50ms);
  }
  const auto cut_for = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - cut_at);

  ASSERT_TRUE(netns_->Restore().ok());
  // Broker 3 hears of the expiry only once it reaches ZooKeeper again.
  EXPECT_TRUE(cluster_->broker(kIsolated).WaitForOutput("ZooKeeper session expired", 30s))
      << cluster_->Outputs();
  ASSERT_TRUE(WaitUntil([&] { return cluster_->LiveIds().contains(kIsolated); }, 30s))
      << "the isolated broker did not register again\n"
      << cluster_->Outputs();
  ASSERT_NO_FATAL_FAILURE(Heal(fmt::format(
      "network partition of broker {} ({}leader of partitions [{}]) for {} ms, link restored",
      kIsolated, was_controller ? "controller, " : "", fmt::join(led, ","), cut_for.count())));
}

}  // namespace
}  // namespace sluice::testing
