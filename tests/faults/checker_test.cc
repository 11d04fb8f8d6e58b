// The fault tests' checkers catch what they name: each check is fed a
// history (or replica logs) with exactly one violation and must count it,
// and a clean history must pass. A checker that cannot fail would make every
// fault test pass whatever the broker did.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "storage/batch_builder.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "support/partition_state_history.h"
#include "support/queue_checker.h"
#include "support/replica_logs.h"
#include "support/temp_dir.h"

namespace sluice::testing {
namespace {

// Values 0..5 over two partitions, all acknowledged, all in the log (value
// v at partition v % 2, offset v / 2), and read once by the group consumer.
struct Clean {
  QueueHistory history;
  FinalLog log;
  Clean() {
    history.partitions = 2;
    history.sent = 6;
    for (int64_t v = 0; v < 6; ++v) {
      const auto p = static_cast<int32_t>(v % 2);
      history.acked.push_back({p, v / 2, v});
      history.consumed.push_back({p, v / 2, v});
      log.records[p].push_back({p, v / 2, v});
    }
    log.high_watermark = {{0, 3}, {1, 3}};
  }
};

TEST(QueueCheckerTest, ACleanHistoryPasses) {
  Clean c;
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_TRUE(check.ok()) << check.Problems();
  EXPECT_EQ(6, check.acked);
  EXPECT_EQ(6, check.read);
}

TEST(QueueCheckerTest, AnAcknowledgedWriteMissingFromTheLogIsLost) {
  Clean c;
  c.log.records[1].pop_back();  // value 5
  c.history.consumed.pop_back();
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(1, check.lost);
}

TEST(QueueCheckerTest, AnAcknowledgedOffsetHoldingAnotherValueIsLost) {
  Clean c;
  c.history.sent = 8;
  c.history.failed[6] = "timed out";
  c.log.records[0][2].value = 6;  // value 4's offset now holds a failed write
  c.history.consumed.clear();
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_EQ(1, check.lost);
}

TEST(QueueCheckerTest, AFailedWriteMayBeInTheLogOnceButNotTwice) {
  Clean c;
  c.history.sent = 8;
  c.history.failed[6] = "timed out";
  c.log.records[0].push_back({0, 3, 6});
  QueueCheck once = CheckQueue(c.history, c.log);
  EXPECT_TRUE(once.ok()) << once.Problems();
  EXPECT_EQ(1, once.read_unacked);
  c.log.records[0].push_back({0, 4, 6});
  QueueCheck twice = CheckQueue(c.history, c.log);
  EXPECT_EQ(1, twice.duplicated);
  EXPECT_EQ(1, twice.unordered);  // 6 after 6 does not increase either
}

TEST(QueueCheckerTest, AnAcknowledgedValueAtAnotherOffsetIsMisplaced) {
  Clean c;
  c.history.acked[4].offset = 7;  // value 4 acknowledged at offset 7, is at 2
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_EQ(1, check.misplaced);
  EXPECT_EQ(0, check.lost);
}

TEST(QueueCheckerTest, AnAcknowledgementWithoutAnOffsetNeedsTheValueInItsPartition) {
  Clean c;
  c.history.acked[4].offset = -1001;  // librdkafka's "delivered, offset unknown"
  QueueCheck present = CheckQueue(c.history, c.log);
  EXPECT_TRUE(present.ok()) << present.Problems();
  EXPECT_EQ(1, present.acked_without_offset);
  c.log.records[0].pop_back();  // value 4
  c.history.consumed.clear();
  EXPECT_EQ(1, CheckQueue(c.history, c.log).lost);
}

TEST(QueueCheckerTest, ValuesOutOfOrderInAPartitionAreCaught) {
  Clean c;
  std::swap(c.log.records[0][0].value, c.log.records[0][1].value);
  c.history.acked = {};  // only the order is wrong, not the acknowledgements
  c.history.consumed.clear();
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_EQ(1, check.unordered);
}

TEST(QueueCheckerTest, AValueOfAnotherPartitionOrNeverSentIsForeign) {
  Clean c;
  c.log.records[0].push_back({0, 3, 7});   // odd: partition 1's
  c.log.records[0].push_back({0, 4, -1});  // not a workload value
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_EQ(2, check.foreign);
}

TEST(QueueCheckerTest, AConsumedWriteThatTheLogLostIsADirtyRead) {
  Clean c;
  c.history.sent = 8;
  c.history.failed[6] = "timed out";
  c.history.consumed.push_back({0, 3, 6});  // read, then truncated away
  QueueCheck check = CheckQueue(c.history, c.log);
  EXPECT_EQ(1, check.dirty);
}

TEST(QueueCheckerTest, AFatalProducerErrorIsReportedAndAnIncompleteReadFails) {
  Clean c;
  c.history.fatal_errors.push_back("Broker: Out of order sequence number");
  QueueCheck reported = CheckQueue(c.history, c.log);
  EXPECT_TRUE(reported.ok()) << "the client gave up; the log is still judged on its own";
  EXPECT_NE(std::string::npos, reported.Summary("none").find(
                                   "replaced after a fatal error 1 (Broker: Out of order"));
  Clean d;
  d.log.problems.push_back("partition 0: read up to offset 1 of high watermark 3");
  EXPECT_FALSE(CheckQueue(d.history, d.log).ok());
}

zk::PartitionState State(int32_t leader, int32_t epoch, std::vector<int32_t> isr) {
  zk::PartitionState s;
  s.leader = leader;
  s.leader_epoch = epoch;
  s.isr = std::move(isr);
  return s;
}

TEST(LeaderEpochCheckTest, AFailoverWithANewEpochPasses) {
  StateVersions seen;
  seen[0] = {{0, State(1, 0, {1, 2, 3})}, {1, State(2, 1, {2, 3})}, {3, State(2, 1, {2, 3, 1})}};
  EpochCheck check = CheckLeaderEpochs(seen);
  EXPECT_TRUE(check.problems.empty());
  EXPECT_EQ(3, check.versions_seen);
  EXPECT_EQ(1, check.versions_missed);
  EXPECT_EQ(1, check.leader_changes);
}

TEST(LeaderEpochCheckTest, TwoLeadersInOneEpochAreCaught) {
  StateVersions seen;
  seen[0] = {{0, State(1, 4, {1, 2, 3})}, {1, State(2, 4, {2, 3})}};
  EXPECT_EQ(1u, CheckLeaderEpochs(seen).problems.size());
  seen[0] = {{0, State(1, 4, {1, 2, 3})}, {1, State(-1, 4, {1})}};  // offline without a new epoch
  EXPECT_EQ(1u, CheckLeaderEpochs(seen).problems.size());
}

TEST(LeaderEpochCheckTest, AnEpochGoingDownOrALeaderOutsideItsIsrIsCaught) {
  StateVersions seen;
  seen[0] = {{0, State(1, 4, {1, 2, 3})}, {1, State(1, 3, {1, 2})}};
  EXPECT_EQ(1u, CheckLeaderEpochs(seen).problems.size());
  seen[0] = {{0, State(1, 4, {2, 3})}};
  EXPECT_EQ(1u, CheckLeaderEpochs(seen).problems.size());
}

// Replica logs of partition "t-0" in three data dirs, built with the
// storage library as a broker would leave them after a clean stop.
class ReplicaLogsTest : public ::testing::Test {
 protected:
  // Appends batches of `records` records (values of `value_bytes`) to
  // replica `r`'s log, all at leader epoch 0.
  void Write(int r, const std::vector<int>& records, size_t value_bytes = 16) {
    const std::filesystem::path dir = dirs_[r].path() / "t-0";
    std::filesystem::create_directories(dir);
    auto log = storage::Log::Open(dir, storage::LogConfig{}, storage::LogOptions{});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int n : records) {
      std::vector<uint8_t> b = storage::testing::MakeBatch(n, 1'700'000'000'000, value_bytes);
      ASSERT_TRUE((*log)->Append(b, 0).ok());
    }
    ASSERT_TRUE((*log)->Close().ok());
    std::ofstream(dirs_[r].path() / storage::kCleanShutdownMarker).flush();
  }
  std::vector<std::filesystem::path> Dirs() const {
    return {dirs_[0].path(), dirs_[1].path(), dirs_[2].path()};
  }
  TempDir dirs_[3];
};

TEST_F(ReplicaLogsTest, IdenticalReplicasPass) {
  for (int r = 0; r < 3; ++r) ASSERT_NO_FATAL_FAILURE(Write(r, {2, 3, 1}));
  ReplicaLogCheck check = CompareReplicaLogs(Dirs(), "t", {{0, 6}});
  EXPECT_TRUE(check.problems.empty()) << check.problems[0];
  EXPECT_EQ(3, check.batches);
}

TEST_F(ReplicaLogsTest, AReplicaThatDivergesBelowTheCommittedOffsetIsCaught) {
  ASSERT_NO_FATAL_FAILURE(Write(0, {2, 3, 1}));
  ASSERT_NO_FATAL_FAILURE(Write(1, {2, 3, 1}));
  ASSERT_NO_FATAL_FAILURE(Write(2, {2, 3}));
  ASSERT_NO_FATAL_FAILURE(Write(2, {1}, 17));  // same offsets, other bytes
  ReplicaLogCheck check = CompareReplicaLogs(Dirs(), "t", {{0, 6}});
  ASSERT_EQ(1u, check.problems.size());
  EXPECT_NE(std::string::npos, check.problems[0].find("base offset 5 vs 5")) << check.problems[0];
  // Above the committed offset a difference is allowed (a tail to truncate).
  EXPECT_TRUE(CompareReplicaLogs(Dirs(), "t", {{0, 5}}).problems.empty());
}

TEST_F(ReplicaLogsTest, AShortReplicaOrACommittedOffsetInsideABatchIsCaught) {
  ASSERT_NO_FATAL_FAILURE(Write(0, {2, 3, 1}));
  ASSERT_NO_FATAL_FAILURE(Write(1, {2, 3, 1}));
  ASSERT_NO_FATAL_FAILURE(Write(2, {2, 3}));
  EXPECT_EQ(1u, CompareReplicaLogs(Dirs(), "t", {{0, 6}}).problems.size());
  EXPECT_EQ(3u, CompareReplicaLogs(Dirs(), "t", {{0, 4}}).problems.size());
}

}  // namespace
}  // namespace sluice::testing
