// Flusher: group commit across partitions. Syncs are held at the file
// system (FaultInjectionFileSystem) so that a test knows which partitions
// are waiting when a sync round starts: whether they are made durable
// together (one syncfs) or one by one is then certain, not a matter of
// timing.
#include "cluster/flusher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "storage/fault_injection_fs.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

using namespace std::chrono_literals;
using storage::testing::AppendBatch;
using storage::testing::FaultInjectionFileSystem;

class FlusherTest : public ::testing::Test {
 protected:
  static constexpr int kPartitions = 5;

  void SetUp() override {
    for (int i = 0; i < kPartitions; ++i) {
      const std::filesystem::path d = dir_.path() / ("t-" + std::to_string(i));
      std::filesystem::create_directory(d);
      std::shared_ptr<storage::Log> log =
          storage::testing::OpenLogOrFail(d, storage::LogConfig{}, {&fs_, nullptr, false, false});
      ASSERT_NE(log, nullptr);
      // The first durable append also writes the epoch checkpoint: done
      // here, so that the tests count only the syncs of their data.
      ASSERT_TRUE(AppendBatch(*log, 1, 1000).ok());
      ASSERT_TRUE(log->Flush().ok());
      partitions_.push_back(std::make_shared<Partition>(storage::TopicPartition{"t", i},
                                                        TopicId{}, log, 0));
    }
  }

  // Appends a batch to partition `i` and asks `flusher` to make it durable.
  std::future<Status> AppendDurable(Flusher& flusher, int i) {
    Partition& p = *partitions_[static_cast<size_t>(i)];
    Result<storage::AppendResult> r = AppendBatch(p.log(), 2, 2000);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    auto done = std::make_shared<std::promise<Status>>();
    flusher.WhenDurable(partitions_[static_cast<size_t>(i)], r.ok() ? r->last_offset + 1 : 0,
                        [done](Status s) { done->set_value(s); });
    return done->get_future();
  }

  // Partition 0's sync is started and held; partitions 1.. are dirtied
  // meanwhile; then the sync is released. Returns once all are durable.
  void DirtyPartitionsDuringOneSync(Flusher& flusher) {
    fs_.HoldSyncs();
    std::vector<std::future<Status>> durable;
    durable.push_back(AppendDurable(flusher, 0));
    ASSERT_TRUE(fs_.WaitForHeldSyncs(1, 10s)) << "partition 0's sync never started";
    syncs_before_ = fs_.sync_count();
    for (int i = 1; i < kPartitions; ++i) durable.push_back(AppendDurable(flusher, i));
    fs_.ReleaseSyncs();
    for (auto& f : durable) {
      ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
      EXPECT_TRUE(f.get().ok());
    }
    for (auto& p : partitions_) {
      EXPECT_EQ(p->high_watermark(), p->log().log_end_offset()) << p->tp().partition;
    }
  }

  sluice::testing::TempDir dir_;
  FaultInjectionFileSystem fs_;
  std::vector<std::shared_ptr<Partition>> partitions_;
  uint64_t syncs_before_ = 0;
};

TEST_F(FlusherTest, PartitionsDirtiedDuringASyncAreMadeDurableTogetherByOneFileSystemSync) {
  Flusher flusher(/*sync_threads=*/1, /*group_min_partitions=*/kPartitions - 1,
                  /*preallocate_bytes=*/0);
  const uint64_t fs_syncs_before = fs_.filesystem_sync_count();
  DirtyPartitionsDuringOneSync(flusher);
  EXPECT_EQ(flusher.rounds_together(), 1u);
  EXPECT_EQ(fs_.filesystem_sync_count() - fs_syncs_before, 1u);
  // Only partition 0's own sync (already counted when it was held, as it
  // completes after) used fdatasync; the other four used none.
  EXPECT_EQ(fs_.sync_count() - syncs_before_, 1u);
}

TEST_F(FlusherTest, FewerWaitingPartitionsThanTheThresholdAreSyncedOneByOne) {
  Flusher flusher(1, /*group_min_partitions=*/kPartitions, 0);
  DirtyPartitionsDuringOneSync(flusher);
  EXPECT_EQ(flusher.rounds_together(), 0u);
  EXPECT_EQ(fs_.filesystem_sync_count(), 0u);
  EXPECT_EQ(fs_.sync_count() - syncs_before_, static_cast<uint64_t>(kPartitions));
}

TEST_F(FlusherTest, ThresholdZeroNeverSyncsTogether) {
  Flusher flusher(1, /*group_min_partitions=*/0, 0);
  DirtyPartitionsDuringOneSync(flusher);
  EXPECT_EQ(flusher.rounds_together(), 0u);
  EXPECT_EQ(fs_.filesystem_sync_count(), 0u);
}

TEST_F(FlusherTest, WaitersAfterStopGetAborted) {
  Flusher flusher(1, 0, 0);
  flusher.Stop();
  std::future<Status> f = AppendDurable(flusher, 0);
  ASSERT_EQ(f.wait_for(0s), std::future_status::ready) << "answered at once";
  EXPECT_EQ(f.get().code(), StatusCode::kAborted);
}

}  // namespace
}  // namespace sluice::cluster
