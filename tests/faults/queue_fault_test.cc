#include "faults/queue_fault_test.h"

#include <cstdio>
#include <map>
#include <vector>

#include "support/kafka_client.h"
#include "support/queue_checker.h"
#include "support/replica_logs.h"
#include "support/wait_until.h"

namespace sluice::testing {

using namespace std::chrono_literals;

void QueueFaultTest::StartCluster() {
  if (!cluster_) cluster_ = std::make_unique<BrokerCluster>();
  Status started = cluster_->Start();
  ASSERT_TRUE(started.ok()) << started.ToString() << "\n" << cluster_->Outputs();
  KafkaClient admin(cluster_->Bootstrap());
  const std::map<std::string, std::string> config = {{"min.insync.replicas", "2"}};
  // A broker checks an explicit assignment against the live brokers it has
  // heard of, which may lag the registrations seen above by a watch event:
  // INVALID_REPLICA_ASSIGNMENT (39) is asked again.
  constexpr int kInvalidReplicaAssignment = 39;
  int created = -1;
  WaitUntil([&] {
    created = assignment_.empty() ? admin.CreateTopic(kTopic, kPartitions, 3, config)
                                  : admin.CreateTopic(kTopic, assignment_, config);
    return created != kInvalidReplicaAssignment;
  });
  ASSERT_EQ(0, created);
  ASSERT_TRUE(WaitUntil([&] { return cluster_->FullyReplicated(kTopic, kPartitions); }))
      << cluster_->Outputs();
  states_ = std::make_unique<PartitionStateHistory>(
      kPartitions, [cluster = cluster_.get()](int32_t p) { return cluster->VersionedState(kTopic, p); });
  states_->Start();
  workload_ = std::make_unique<QueueWorkload>(cluster_->Bootstrap(), workload_options_);
  workload_->Start();
  ASSERT_TRUE(WaitForProgress(100)) << "a healthy cluster acknowledges writes\n"
                                    << cluster_->Outputs();
  // The faults find a consumer group at work, not one still forming.
  ASSERT_TRUE(WaitUntil([&] { return workload_->consumed() > 0; }))
      << "the group consumer received nothing\n"
      << cluster_->Outputs();
}

void QueueFaultTest::TearDown() {
  workload_.reset();
  states_.reset();
  cluster_.reset();
}

bool QueueFaultTest::WaitForProgress(int64_t n, std::chrono::milliseconds timeout) {
  const int64_t target = workload_->acked() + n;
  return WaitUntil([&] { return workload_->acked() >= target; }, timeout);
}

bool QueueFaultTest::WaitForLeadersOtherThan(int32_t broker, std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        for (int32_t p = 0; p < kPartitions; ++p) {
          auto s = cluster_->State(kTopic, p);
          if (!s || s->leader < 0 || s->leader == broker) return false;
        }
        return true;
      },
      timeout);
}

void QueueFaultTest::Heal(const std::string& faults) {
  ASSERT_TRUE(WaitUntil([&] { return cluster_->FullyReplicated(kTopic, kPartitions); }, 60s))
      << "the cluster did not heal: some partition lacks a leader or a full ISR\n"
      << cluster_->Outputs();
  EXPECT_TRUE(WaitForProgress(100)) << "no writes acknowledged after healing\n"
                                    << cluster_->Outputs();
  EXPECT_TRUE(workload_->StopProducing(60s)) << "some writes never got a delivery report";
  EXPECT_TRUE(workload_->WaitConsumed(60s))
      << "the group consumer did not receive every acknowledged write (it received "
      << workload_->consumed() << ")\n"
      << cluster_->Outputs(20000);
  workload_->StopConsuming();
  states_->Stop();

  const FinalLog log = ReadFinalLog(cluster_->Bootstrap(), kTopic, kPartitions);
  const QueueCheck check = CheckQueue(workload_->history(), log);
  std::printf("%s\n", check.Summary(faults).c_str());
  EXPECT_TRUE(check.ok()) << check.Problems();
  EXPECT_EQ(0, check.lost);  // Named again so that the count shows in the failure.
  EXPECT_GT(check.acked, 0);

  const EpochCheck epochs = states_->Check();
  std::printf("%s\n", epochs.Summary().c_str());
  for (const std::string& p : epochs.problems) ADD_FAILURE() << p;

  // Every replica is still in the ISR, so each holds the log up to the high
  // watermark the read above stopped at.
  EXPECT_TRUE(cluster_->FullyReplicated(kTopic, kPartitions)) << cluster_->Outputs();
  Status stopped = cluster_->StopBrokers();
  ASSERT_TRUE(stopped.ok()) << stopped.ToString() << "\n" << cluster_->Outputs();
  std::vector<std::filesystem::path> dirs;
  for (int32_t id = 1; id <= cluster_->size(); ++id) dirs.push_back(cluster_->LogDir(id));
  const ReplicaLogCheck replicas = CompareReplicaLogs(dirs, kTopic, log.high_watermark);
  std::printf("%s\n", replicas.Summary().c_str());
  for (const std::string& p : replicas.problems) ADD_FAILURE() << p;
  EXPECT_GT(replicas.batches, 0);
}

}  // namespace sluice::testing
