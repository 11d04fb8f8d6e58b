// A full disk under one follower. Broker 3's log dir is a small tmpfs that
// the test fills while a workload runs; broker 3 follows every partition of
// the topic (an explicit assignment names it last), so only its appends of
// its leaders' batches meet the full disk.
//
// What the broker does (src/replication/replica_fetcher.cc, src/storage/
// log.cc): a follower's append that fails (ENOSPC from the segment write)
// leaves the log as it was (a partial write is cut off) and is logged; the
// fetcher fetches again from its unchanged log end offset. There is no log
// dir failure handling as in Kafka (no offline dir, no notice to the
// controller): the follower just stops advancing, so its leaders drop it
// from the ISR after replica.lag.time.max.ms and commit with the two
// others (min.insync.replicas=2). Expected, and checked here: broker 3 keeps
// running, writes go on, no acknowledged write is lost; once the space is
// freed and broker 3 restarted it catches up and rejoins every ISR, and its
// log is byte-identical to the others' below the high watermark (it wrote
// no damaged batch).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "faults/queue_fault_test.h"
#include "support/tmpfs_mount.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr int32_t kFull = 3;
constexpr uint64_t kDiskBytes = 64 << 20;

class DiskFullTest : public QueueFaultTest {
 protected:
  void SetUp() override {
    std::string why_not;
    disk_ = TmpfsMount::Create(kDiskBytes, &why_not);
    if (!disk_) GTEST_SKIP() << why_not;
    cluster_ = std::make_unique<BrokerCluster>();
    cluster_->Configure(kFull, BrokerSetup{.log_dir = disk_->path() / "data"});
    assignment_ = {{1, 2, 3}, {2, 1, 3}, {1, 2, 3}};
    // 1 KiB values use up the segments' preallocated space within seconds.
    workload_options_.value_bytes = 1024;
  }
  void TearDown() override {
    QueueFaultTest::TearDown();  // The broker goes before its disk.
    disk_.reset();
  }

  // True when no partition of the topic has broker 3 in its ISR.
  bool OutOfEveryIsr() {
    for (int32_t p = 0; p < kPartitions; ++p) {
      auto s = cluster_->State(kTopic, p);
      if (!s || std::find(s->isr.begin(), s->isr.end(), kFull) != s->isr.end()) return false;
    }
    return true;
  }

  std::unique_ptr<TmpfsMount> disk_;
};

TEST_F(DiskFullTest, AFollowerOnAFullDiskFallsOutOfTheIsrAndCatchesUpOnceFreed) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_TRUE(cluster_->LedBy(kFull, kTopic, kPartitions).empty());
  const uint64_t free_before = disk_->FreeBytes();

  const auto filled_at = std::chrono::steady_clock::now();
  auto filled = disk_->Fill();
  ASSERT_TRUE(filled.ok()) << filled.status().ToString();
  EXPECT_TRUE(cluster_->broker(kFull).WaitForOutput("No space left on device", 30s))
      << "broker 3 never met the full disk\n"
      << cluster_->Outputs();
  ASSERT_TRUE(WaitUntil([&] { return OutOfEveryIsr(); }, 30s))
      << "broker 3 stayed in an ISR while it could not append\n"
      << cluster_->Outputs();
  EXPECT_TRUE(WaitForProgress(200)) << "brokers 1 and 2 go on acknowledging writes\n"
                                    << cluster_->Outputs();
  ASSERT_TRUE(cluster_->Alive(kFull)) << "broker 3 exited on a full disk\n" << cluster_->Outputs();

  // How the broker met the disk: its failed appends. A failed append is
  // retried after replica.fetch.backoff.ms, not at once: a full disk does
  // not empty itself, and a fetcher that asks again at once spins, fetching
  // and failing on the same batch as fast as the leader answers (and
  // flooding the log). Each of the two fetcher threads (one per leader) may
  // fail on each partition with data once per backoff; 8 per backoff is
  // that with room to spare.
  const auto full_for = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - filled_at);
  const std::string out = cluster_->broker(kFull).output();
  int64_t failed_appends = 0;
  std::string first_line;
  for (size_t at = out.find("append of the leader's batch"); at != std::string::npos;
       at = out.find("append of the leader's batch", at + 1)) {
    if (++failed_appends == 1) {
      const size_t begin = out.rfind('\n', at) + 1;
      first_line = out.substr(begin, out.find('\n', at) - begin);
    }
  }
  const int64_t backoff_ms = BrokerClusterOptions{}.replica_fetch_backoff_ms;
  std::printf("broker %d failed %lld appends in %lld ms of full disk; the first:\n%s\n", kFull,
              static_cast<long long>(failed_appends), static_cast<long long>(full_for.count()),
              first_line.c_str());
  EXPECT_LE(failed_appends, 8 * (full_for.count() / backoff_ms + 1))
      << "the follower retries a failed append without backing off";

  ASSERT_TRUE(disk_->Unfill().ok());
  auto stopped = cluster_->broker(kFull).Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString() << "\n" << cluster_->Outputs();
  EXPECT_EQ(0, *stopped) << "broker 3 did not stop cleanly after its disk was freed\n"
                         << cluster_->broker(kFull).output();
  ASSERT_TRUE(cluster_->StartBroker(kFull).ok()) << cluster_->Outputs();
  ASSERT_NO_FATAL_FAILURE(Heal(fmt::format(
      "disk full on follower broker {} ({} MiB tmpfs, {} KiB free filled), space freed, broker "
      "restarted",
      kFull, kDiskBytes >> 20, free_before >> 10)));
}

}  // namespace
}  // namespace sluice::testing
