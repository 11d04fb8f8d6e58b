// ZooKeeper outages under a queue workload, on a three-server ensemble:
// first the quorum leader is killed (-9) and restarted, which the ensemble
// rides out with a new leader; then two servers are killed at once and the
// quorum is gone for twice the brokers' session timeout. Brokers must not
// exit: without ZooKeeper nothing that needs it can change (no leader
// elections, no ISR changes), but leaders keep taking acks=all writes while
// their ISR holds. Once the servers are back the checker must find every
// acknowledged write exactly once (queue_fault_test.h).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <thread>

#include "faults/queue_fault_test.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

class ZooKeeperOutageTest : public QueueFaultTest {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<BrokerCluster>(BrokerClusterOptions{.zookeeper_servers = 3});
  }
  // Every broker is still running; fails the test naming one that is not.
  void ExpectBrokersAlive(const std::string& when) {
    for (int32_t id = 1; id <= cluster_->size(); ++id) {
      EXPECT_TRUE(cluster_->Alive(id)) << "broker " << id << " exited " << when << "\n"
                                       << cluster_->Outputs();
    }
  }
};

TEST_F(ZooKeeperOutageTest, BrokersRideOutALostServerAndALostQuorum) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ZooKeeperEnsemble& zk = cluster_->zookeeper();

  // 1. kill -9 of the quorum leader, then its restart.
  int leader = -1;
  ASSERT_TRUE(WaitUntil([&] { return (leader = zk.Leader()) >= 0; }));
  zk.Kill(leader);
  ASSERT_TRUE(WaitUntil([&] {
    const int l = zk.Leader();
    return l >= 0 && l != leader;
  })) << "the two servers left elected no leader";
  EXPECT_TRUE(WaitForProgress(100)) << cluster_->Outputs();
  ASSERT_TRUE(zk.Restart(leader).ok()) << zk.output(leader);
  EXPECT_TRUE(WaitForProgress(100)) << cluster_->Outputs();
  ExpectBrokersAlive("after a ZooKeeper server restart");

  // 2. Two servers down: no quorum.
  int second_leader = -1;
  ASSERT_TRUE(WaitUntil([&] { return (second_leader = zk.Leader()) >= 0; }));
  const int follower = (second_leader + 1) % zk.size();
  zk.Kill(second_leader);
  zk.Kill(follower);
  const int survivor = 3 - second_leader - follower;
  ASSERT_TRUE(WaitUntil([&] { return zk.Ask(survivor, "srvr").find("Mode:") == std::string::npos; }))
      << "one server of three still claims a mode";
  // The outage lasts twice the brokers' session timeout, measured on the
  // steady clock while checking that writes go on and no broker exits.
  const auto lost_at = std::chrono::steady_clock::now();
  const int64_t acked_before = workload_->acked();
  while (std::chrono::steady_clock::now() - lost_at <
         2 * std::chrono::milliseconds(BrokerClusterOptions{}.session_timeout_ms)) {
    for (int32_t id = 1; id <= cluster_->size(); ++id) {
      ASSERT_TRUE(cluster_->Alive(id)) << "broker " << id << " exited without a ZooKeeper quorum\n"
                                       << cluster_->Outputs();
    }
    std::this_thread::sleep_for(50ms);
  }
  const int64_t acked_during = workload_->acked() - acked_before;
  EXPECT_GT(acked_during, 0) << "leaders stopped taking writes while ZooKeeper had no quorum\n"
                             << cluster_->Outputs();
  ASSERT_TRUE(zk.Restart(second_leader).ok()) << zk.output(second_leader);
  ASSERT_TRUE(zk.Restart(follower).ok()) << zk.output(follower);
  ExpectBrokersAlive("after the quorum came back");

  ASSERT_NO_FATAL_FAILURE(Heal(fmt::format(
      "kill -9 and restart of ZooKeeper leader server {}; kill -9 of servers {} (leader) and {} "
      "(no quorum for 6 s, {} writes acknowledged meanwhile) and their restart",
      leader + 1, second_leader + 1, follower + 1, acked_during)));
  // Heal's clean stop (exit code 0 from each broker) shows that none had
  // exited before.
}

}  // namespace
}  // namespace sluice::testing
