// Randomized faults under the queue workload, one after another: kill -9 of
// a random broker or of the controller (restarted after a random pause),
// SIGSTOP of a random broker for up to twice its session timeout (then
// SIGCONT), kill -9 and restart of a random ZooKeeper server of three.
// After each fault the cluster must heal (every partition led, every ISR
// full, writes acknowledged again) before the next; at the end the checkers judge the whole history
// (queue_fault_test.h).
//
// SLUICE_CHAOS_SECONDS (default 20) bounds the time spent injecting faults;
// SLUICE_CHAOS_SEED (default: random) picks them. Both are printed, so a
// failing run can be replayed. scripts/chaos.sh runs this for longer.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "faults/queue_fault_test.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

int64_t EnvOr(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoll(v) : fallback;
}

class ChaosTest : public QueueFaultTest {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<BrokerCluster>(BrokerClusterOptions{.zookeeper_servers = 3});
  }

  // Waits `d` on the steady clock, checking that every broker not under a
  // fault (`except`) is still running.
  void Hold(std::chrono::milliseconds d, int32_t except) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      for (int32_t id = 1; id <= cluster_->size(); ++id) {
        if (id == except) continue;
        ASSERT_TRUE(cluster_->Alive(id)) << "broker " << id << " exited\n" << cluster_->Outputs();
      }
      std::this_thread::sleep_for(20ms);
    }
  }
};

TEST_F(ChaosTest, RandomFaultsLoseNoAcknowledgedWrite) {
  const int64_t seconds = EnvOr("SLUICE_CHAOS_SECONDS", 20);
  const uint64_t seed = static_cast<uint64_t>(EnvOr("SLUICE_CHAOS_SEED", std::random_device{}()));
  std::printf("chaos: %lld s of faults, seed %llu (SLUICE_CHAOS_SEED replays it)\n",
              static_cast<long long>(seconds), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int session_ms = BrokerClusterOptions{}.session_timeout_ms;

  std::map<std::string, int> injected;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    const int64_t kind = uniform(0, 3);
    const auto pause = std::chrono::milliseconds(uniform(0, 2 * session_ms));
    std::string fault;
    // Partition state versions before a fault that must change every state
    // (a kill -9: the victim is in every ISR, and its restart waits for its
    // old session to expire, so the controller drops it from each ISR and
    // adds it back). Without this the heal check could pass on states the
    // controller has not yet rewritten.
    std::map<int32_t, int32_t> versions;
    if (kind <= 1) {  // kill -9 of a random broker, or of the controller
      int32_t victim = kind == 0 ? static_cast<int32_t>(uniform(1, cluster_->size()))
                                 : cluster_->Controller();
      if (victim <= 0) victim = 1;
      for (int32_t p = 0; p < kPartitions; ++p) {
        auto s = cluster_->VersionedState(kTopic, p);
        ASSERT_TRUE(s.has_value());
        versions[p] = s->second;
      }
      fault = fmt::format("kill -9 of broker {}{} for {} ms", victim,
                          kind == 1 ? " (controller)" : "", pause.count());
      ++injected[kind == 0 ? "kill -9 broker" : "kill -9 controller"];
      cluster_->broker(victim).Kill();
      ASSERT_NO_FATAL_FAILURE(Hold(pause, victim));
      ASSERT_TRUE(cluster_->StartBroker(victim).ok()) << cluster_->Outputs();
    } else if (kind == 2) {  // SIGSTOP of a random broker
      const auto victim = static_cast<int32_t>(uniform(1, cluster_->size()));
      fault = fmt::format("SIGSTOP of broker {} for {} ms", victim, pause.count());
      ++injected["SIGSTOP broker"];
      ASSERT_EQ(0, ::kill(cluster_->broker(victim).pid(), SIGSTOP));
      ASSERT_NO_FATAL_FAILURE(Hold(pause, victim));
      ASSERT_EQ(0, ::kill(cluster_->broker(victim).pid(), SIGCONT));
    } else {  // kill -9 and restart of a ZooKeeper server
      const auto server = static_cast<int>(uniform(0, cluster_->zookeeper().size() - 1));
      const bool leader = cluster_->zookeeper().Leader() == server;
      fault = fmt::format("kill -9 of ZooKeeper server {}{} for {} ms", server + 1,
                          leader ? " (leader)" : "", pause.count());
      ++injected["kill -9 ZooKeeper server"];
      cluster_->zookeeper().Kill(server);
      ASSERT_NO_FATAL_FAILURE(Hold(pause, -1));
      ASSERT_TRUE(cluster_->zookeeper().Restart(server).ok())
          << cluster_->zookeeper().output(server);
    }
    const auto healing = std::chrono::steady_clock::now();
    ASSERT_TRUE(WaitUntil(
        [&] {
          for (const auto& [p, version] : versions) {
            auto s = cluster_->VersionedState(kTopic, p);
            if (!s || s->second == version) return false;
          }
          return cluster_->FullyReplicated(kTopic, kPartitions);
        },
        60s))
        << "no heal after: " << fault << "\n"
        << cluster_->Outputs();
    ASSERT_TRUE(WaitForProgress(50)) << "no writes acknowledged after: " << fault << "\n"
                                     << cluster_->Outputs();
    const auto healed_in = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - healing);
    std::printf("chaos: %s; healed in %lld ms; %lld writes acknowledged so far\n", fault.c_str(),
                static_cast<long long>(healed_in.count()),
                static_cast<long long>(workload_->acked()));
    std::fflush(stdout);  // scripts/chaos.sh shows progress from a file
  }
  std::string summary;
  int total = 0;
  for (const auto& [kind, n] : injected) {
    summary += fmt::format("{}{} x{}", summary.empty() ? "" : ", ", kind, n);
    total += n;
  }
  ASSERT_NO_FATAL_FAILURE(
      Heal(fmt::format("{} random faults, seed {} ({})", total, seed, summary)));
}

}  // namespace
}  // namespace sluice::testing
