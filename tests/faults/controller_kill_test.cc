// kill -9 of the controller while a workload runs: a new controller is
// elected, the partitions the dead broker led get new leaders, the broker
// comes back and rejoins every ISR, and the checker finds every
// acknowledged write exactly once (queue_fault_test.h).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "faults/queue_fault_test.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

using ControllerKillTest = QueueFaultTest;

TEST_F(ControllerKillTest, ANewControllerTakesOverAndTheOldOneRejoins) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int32_t victim = cluster_->Controller();
  ASSERT_GT(victim, 0);
  const std::set<int32_t> led = cluster_->LedBy(victim, kTopic, kPartitions);

  cluster_->broker(victim).Kill();
  int32_t successor = -1;
  ASSERT_TRUE(WaitUntil([&] {
    successor = cluster_->Controller();
    return successor > 0 && successor != victim;
  })) << "no new controller after broker "
      << victim << " died\n"
      << cluster_->Outputs();
  ASSERT_TRUE(WaitForLeadersOtherThan(victim))
      << "the partitions broker " << victim << " led got no new leader\n"
      << cluster_->Outputs();
  EXPECT_TRUE(WaitForProgress(100)) << "two brokers of three take acks=all writes\n"
                                    << cluster_->Outputs();

  ASSERT_TRUE(cluster_->StartBroker(victim).ok()) << cluster_->Outputs();
  ASSERT_NO_FATAL_FAILURE(Heal(fmt::format(
      "kill -9 of controller broker {} (leader of partitions [{}]), controller moved to broker {}, "
      "broker {} restarted",
      victim, fmt::join(led, ","), successor, victim)));
}

}  // namespace
}  // namespace sluice::testing
