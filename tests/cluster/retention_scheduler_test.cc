// RetentionScheduler: which logs it trims (cleanup.policy), when each task
// runs (on a fake monotonic clock, through RunDue), its thread, its
// counters, flush.ms, the recovery-point checkpoint, topic deletion racing a
// round, and the wiring in PartitionManager.
#include "cluster/retention_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "cluster/partition_manager.h"
#include "metrics/registry.h"
#include "storage/checkpoint.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

using namespace std::chrono_literals;
using storage::LogConfig;
using storage::TopicPartition;
using storage::testing::AppendBatch;
using storage::testing::FakeClock;

// Small segments: every few batches roll one.
LogConfig SmallSegments() {
  LogConfig c;
  c.segment_bytes = 400;
  c.index_interval_bytes = 64;
  return c;
}

RetentionSchedulerOptions Every(int64_t retention_check_interval_ms) {
  RetentionSchedulerOptions o;
  o.retention_check_interval_ms = retention_check_interval_ms;
  return o;
}

// The same, measured on `steady` (a test moves it and calls RunDue).
RetentionSchedulerOptions Every(int64_t retention_check_interval_ms, FakeClock& steady) {
  RetentionSchedulerOptions o = Every(retention_check_interval_ms);
  o.clock = steady.fn();
  return o;
}

LogConfig FromPolicy(bool del, bool compact, int64_t retention_ms) {
  config::TopicConfig t;
  t.cleanup_delete = del;
  t.cleanup_compact = compact;
  t.retention_ms = retention_ms;
  t.segment_bytes = 400;
  t.index_interval_bytes = 64;
  return ToLogConfig(t);
}

class RetentionSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LogManagerOptions o;
    o.clock = clock_.fn();
    auto m = storage::LogManager::Open({dir_.path() / "data"}, o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    logs_ = std::move(*m);
  }

  std::shared_ptr<storage::Log> Create(const std::string& topic, const LogConfig& c) {
    auto log = logs_->Create({topic, 0}, c);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? *log : nullptr;
  }

  // Batches stamped an hour ago: older than the retention of the tests.
  static void FillOld(storage::Log& log, const FakeClock& clock, int batches = 20) {
    for (int i = 0; i < batches; ++i) {
      ASSERT_TRUE(AppendBatch(log, 2, clock.now() - 3'600'000, 40).ok());
    }
    ASSERT_GT(log.segment_count(), 3u);
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<storage::LogManager> logs_;
};

TEST_F(RetentionSchedulerTest, DeletesByPolicyDeleteAndCompactDeleteButNotCompactAlone) {
  auto del = Create("del", FromPolicy(true, false, 60'000));
  auto compact = Create("compact", FromPolicy(false, true, 60'000));
  auto both = Create("both", FromPolicy(true, true, 60'000));
  for (auto* log : {del.get(), compact.get(), both.get()}) FillOld(*log, clock_);
  const size_t compact_segments = compact->segment_count();

  RetentionScheduler scheduler(logs_.get(), {});
  const uint64_t deleted = scheduler.EnforceRetentionOnce();
  EXPECT_EQ(del->segment_count(), 1u) << "only the active segment is left";
  EXPECT_EQ(both->segment_count(), 1u) << "compact,delete also ages out";
  EXPECT_EQ(compact->segment_count(), compact_segments) << "compact alone keeps everything";
  EXPECT_EQ(compact->log_start_offset(), 0);
  EXPECT_EQ(del->log_start_offset(), del->segment_bases().front());
  EXPECT_GT(del->log_start_offset(), 0);
  EXPECT_EQ(deleted, 2 * (compact_segments - 1));
  const RetentionTotals t = scheduler.totals();
  EXPECT_EQ(t.rounds, 1u);
  EXPECT_EQ(t.segments_deleted, deleted);
  EXPECT_GT(t.bytes_deleted, 0u);
  EXPECT_EQ(t.errors, 0u);
  // Nothing old is left: a second round deletes nothing.
  EXPECT_EQ(scheduler.EnforceRetentionOnce(), 0u);
}

TEST_F(RetentionSchedulerTest, CountsDeletionsInPrometheusCounters) {
  metrics::MetricsRegistry registry;
  metrics::BrokerMetrics metrics(registry);
  LogConfig c = SmallSegments();
  c.retention_ms = -1;
  c.retention_bytes = 800;
  auto log = Create("sized", c);
  FillOld(*log, clock_);
  const uint64_t before = log->size_bytes();
  RetentionScheduler scheduler(logs_.get(), {}, &metrics);
  const uint64_t deleted = scheduler.EnforceRetentionOnce();
  ASSERT_GT(deleted, 0u);
  EXPECT_EQ(metrics.retention_segments_deleted().Value(), deleted);
  EXPECT_EQ(metrics.retention_bytes_deleted().Value(), before - log->size_bytes());
  EXPECT_NE(registry.Render().find("sluice_log_retention_deleted_segments_total " +
                                   std::to_string(deleted)),
            std::string::npos)
      << registry.Render();
}

TEST_F(RetentionSchedulerTest, OldSegmentsGoAtTheFirstCheckOnceTheIntervalHasPassed) {
  auto log = Create("del", FromPolicy(true, false, 60'000));
  FillOld(*log, clock_);
  const size_t segments = log->segment_count();
  FakeClock steady;
  RetentionScheduler scheduler(logs_.get(), Every(5'000, steady));
  EXPECT_EQ(scheduler.RunDue(), 5'000);
  steady.Advance(4'999);
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_EQ(log->segment_count(), segments);
  EXPECT_EQ(scheduler.totals().rounds, 0u);
  steady.Advance(1);
  EXPECT_EQ(scheduler.RunDue(), 5'000) << "the next interval starts after the round";
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(scheduler.totals().rounds, 1u);
}

TEST_F(RetentionSchedulerTest, EachTaskRunsOnItsOwnIntervalOnTheClock) {
  FakeClock steady;
  RetentionSchedulerOptions o;
  o.retention_check_interval_ms = 1'000;
  o.flush_check_interval_ms = 300;
  o.recovery_point_checkpoint_interval_ms = 700;
  o.clock = steady.fn();
  RetentionScheduler scheduler(logs_.get(), o);
  auto rounds = [&] {
    const RetentionTotals t = scheduler.totals();
    return std::vector<uint64_t>{t.rounds, t.flush_rounds, t.checkpoint_rounds};
  };
  EXPECT_EQ(scheduler.RunDue(), 300);
  EXPECT_EQ(rounds(), (std::vector<uint64_t>{0, 0, 0}));
  steady.Advance(300);
  EXPECT_EQ(scheduler.RunDue(), 300);  // flush next at 600
  EXPECT_EQ(rounds(), (std::vector<uint64_t>{0, 1, 0}));
  steady.Advance(400);                 // 700: the flush (late) and the checkpoint
  EXPECT_EQ(scheduler.RunDue(), 300);  // retention at 1000, flush at 1000
  EXPECT_EQ(rounds(), (std::vector<uint64_t>{0, 2, 1}));
  steady.Advance(300);
  EXPECT_EQ(scheduler.RunDue(), 300);  // flush at 1300, checkpoint at 1400
  EXPECT_EQ(rounds(), (std::vector<uint64_t>{1, 3, 1}));
  // Intervals that mean never (Kafka's Long.MAX_VALUE defaults).
  o.retention_check_interval_ms = INT64_MAX;
  o.flush_check_interval_ms = INT64_MAX;
  o.recovery_point_checkpoint_interval_ms = 0;
  RetentionScheduler idle(logs_.get(), o);
  EXPECT_EQ(idle.RunDue(), std::nullopt);
}

TEST_F(RetentionSchedulerTest, ThreadRunsEveryIntervalAndStopsPromptly) {
  auto log = Create("del", FromPolicy(true, false, 60'000));
  FillOld(*log, clock_);
  RetentionScheduler scheduler(logs_.get(), Every(20));
  scheduler.Start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (log->segment_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(log->segment_count(), 1u);
  // New old data goes on the next rounds without anyone asking.
  ASSERT_TRUE(AppendBatch(*log, 2, clock_.now(), 400).ok());  // rolls: the old one is closed
  const int64_t active_base = log->segment_bases().back();
  while (log->log_start_offset() < active_base && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(log->log_start_offset(), active_base);
  const auto stop_start = std::chrono::steady_clock::now();
  scheduler.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, 2s);
  EXPECT_GE(scheduler.totals().rounds, 2u);
}

TEST_F(RetentionSchedulerTest, StopDoesNotWaitForALongInterval) {
  // The thread reads the clock (in RunDue) before it waits out the interval.
  auto looked = std::make_shared<std::promise<void>>();
  auto armed = std::make_shared<std::atomic<bool>>(false);
  RetentionSchedulerOptions o = Every(3'600'000);
  o.clock = [looked, armed, steady = clock_.fn()] {
    if (armed->exchange(false)) looked->set_value();
    return steady();
  };
  RetentionScheduler scheduler(logs_.get(), o);
  armed->store(true);  // The constructor's calls are not the thread's.
  scheduler.Start();
  ASSERT_EQ(looked->get_future().wait_for(10s), std::future_status::ready);
  const auto stop_start = std::chrono::steady_clock::now();
  scheduler.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, 2s);
  EXPECT_EQ(scheduler.totals().rounds, 0u);
}

TEST_F(RetentionSchedulerTest, FlushRoundAppliesFlushMs) {
  LogConfig c = SmallSegments();
  c.flush_ms = 1000;
  auto log = Create("flushed", c);
  ASSERT_TRUE(AppendBatch(*log, 3, clock_.now()).ok());
  RetentionScheduler scheduler(logs_.get(), {});
  scheduler.FlushOnce();
  EXPECT_EQ(log->flushed_offset(), 0) << "younger than flush.ms";
  clock_.Advance(1500);
  scheduler.FlushOnce();
  EXPECT_EQ(log->flushed_offset(), 3);
}

TEST_F(RetentionSchedulerTest, CheckpointRoundPersistsTheFlushedOffsetAsRecoveryPoint) {
  auto log = Create("checkpointed", LogConfig{});  // 1 GiB segments: no roll moves it
  ASSERT_TRUE(AppendBatch(*log, 3, clock_.now()).ok());
  ASSERT_TRUE(log->Flush().ok());
  ASSERT_TRUE(AppendBatch(*log, 2, clock_.now()).ok());  // not flushed: not a recovery point
  const auto file = dir_.path() / "data" / "checkpointed-0" / storage::kRecoveryPointCheckpoint;
  auto before = storage::ReadOffsetCheckpoint(storage::FileSystem::Default(), file);
  ASSERT_TRUE(before.ok());
  EXPECT_NE(before->value_or(-1), 3);
  RetentionScheduler scheduler(logs_.get(), {});
  scheduler.CheckpointRecoveryPointsOnce();
  auto after = storage::ReadOffsetCheckpoint(storage::FileSystem::Default(), file);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->value_or(-1), 3);
  EXPECT_EQ(scheduler.totals().errors, 0u);
}

TEST_F(RetentionSchedulerTest, TopicsDeletedDuringRoundsAreSkipped) {
  RetentionScheduler scheduler(logs_.get(), Every(1));
  scheduler.Start();
  for (int i = 0; i < 30; ++i) {
    const TopicPartition tp{"churn" + std::to_string(i % 3), 0};
    auto log = logs_->Create(tp, FromPolicy(true, false, 60'000));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int b = 0; b < 10; ++b) ASSERT_TRUE(AppendBatch(**log, 2, clock_.now() - 3'600'000, 40).ok());
    ASSERT_TRUE(logs_->Delete(tp).ok());
  }
  scheduler.Stop();
  EXPECT_EQ(scheduler.totals().errors, 0u);
}

// The broker wiring: PartitionManager starts the scheduler with
// log.retention.check.interval.ms and stops it in Close.
TEST(PartitionManagerRetentionTest, OldSegmentsOfDeleteTopicsGoAway) {
  testing::TempDir dir;
  auto config = config::BrokerConfig::Build({}, "",
                                            {"log.dirs=" + dir.path().string(),
                                             "log.retention.check.interval.ms=20",
                                             "log.cleaner.enable=false"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto pm = PartitionManager::Open(*config);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  const std::map<std::string, std::string> small{{"segment.bytes", "400"},
                                                 {"retention.ms", "60000"}};
  auto compact = small;
  compact["cleanup.policy"] = "compact";
  ASSERT_TRUE((*pm)->CreateTopic("aged", 1, 1, small, false).ok());
  ASSERT_TRUE((*pm)->CreateTopic("kept", 1, 1, compact, false).ok());
  for (const char* topic : {"aged", "kept"}) {
    auto p = (*pm)->Get(topic, 0);
    // Stamped in 2001: far older than retention.ms.
    for (int i = 0; i < 20; ++i) {
      std::vector<uint8_t> b = storage::testing::MakeBatch(2, 1'000'000'000'000, 40);
      ASSERT_TRUE(p->Append(b, -1).ok());
    }
    EXPECT_EQ(p->log().log_end_offset(), 40);
  }
  // The compacted topic keeps every segment. The other one may already be
  // trimmed by the scheduler (every 20 ms) as it is written, so its having
  // had several segments shows below in its log start, not in a count here.
  EXPECT_GT((*pm)->Get("kept", 0)->log().segment_count(), 3u);
  auto aged = (*pm)->Get("aged", 0);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (aged->log().segment_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(aged->log().segment_count(), 1u);
  EXPECT_GT(aged->log().log_start_offset(), 0);
  EXPECT_EQ((*pm)->Get("kept", 0)->log().log_start_offset(), 0);
  ASSERT_TRUE((*pm)->DeleteTopic("aged").ok());
  ASSERT_TRUE((*pm)->Close().ok());
}

}  // namespace
}  // namespace sluice::cluster
