// Log::AppendAsFollower: a follower's log takes its leader's batches with
// their offsets and leader epochs unchanged, so both logs hold the same
// history (what OffsetForLeaderEpoch and truncation rely on).
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "model/record_batch_header.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using testing::MakeBatch;
using testing::OpenLogOrFail;
using testing::SliceBytes;

class FollowerAppendTest : public ::testing::Test {
 protected:
  LogOptions Options() {
    LogOptions o;
    o.clock = clock_.fn();
    return o;
  }
  // The batch as the leader wrote it: base offset and epoch set.
  std::vector<uint8_t> LeaderBatch(int64_t base_offset, int32_t epoch, int records) {
    std::vector<uint8_t> b = MakeBatch(records, clock_.now());
    model::SetBaseOffset(b, base_offset);
    model::SetPartitionLeaderEpoch(b, epoch);
    return b;
  }

  sluice::testing::TempDir dir_;
  testing::FakeClock clock_;
};

TEST_F(FollowerAppendTest, KeepsTheLeadersOffsetsAndEpochs) {
  std::filesystem::create_directories(dir_.path() / "leader");
  std::filesystem::create_directories(dir_.path() / "follower");
  std::unique_ptr<Log> leader = OpenLogOrFail(dir_.path() / "leader", {}, Options());
  std::unique_ptr<Log> follower = OpenLogOrFail(dir_.path() / "follower", {}, Options());
  ASSERT_TRUE(leader && follower);
  for (int32_t epoch : {0, 0, 3, 3, 7}) {
    std::vector<uint8_t> b = MakeBatch(4, clock_.now());
    ASSERT_TRUE(leader->Append(b, epoch).ok());
  }
  Result<ReadResult> all = leader->Read(0, 1 << 20);
  ASSERT_TRUE(all.ok());
  std::vector<uint8_t> bytes = SliceBytes(*all);
  size_t at = 0;
  while (at < bytes.size()) {
    auto h = model::ParseRecordBatchHeader(std::span<const uint8_t>(bytes).subspan(at));
    ASSERT_TRUE(h.ok());
    std::span<uint8_t> one(bytes.data() + at, h->size_bytes());
    Result<AppendResult> r = follower->AppendAsFollower(one);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->base_offset, h->base_offset);
    at += h->size_bytes();
  }
  EXPECT_EQ(follower->log_end_offset(), 20);
  EXPECT_EQ(follower->epochs(), leader->epochs());
  for (int32_t epoch : {0, 3, 7}) {
    EXPECT_EQ(follower->EndOffsetForEpoch(epoch), leader->EndOffsetForEpoch(epoch)) << epoch;
  }
  Result<ReadResult> copied = follower->Read(0, 1 << 20);
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(SliceBytes(*copied), bytes);
}

TEST_F(FollowerAppendTest, AllowsAGapButNeverAnOverlapOrAnOlderEpoch) {
  std::unique_ptr<Log> log = OpenLogOrFail(dir_.path(), {}, Options());
  ASSERT_TRUE(log);
  std::vector<uint8_t> first = LeaderBatch(0, 2, 5);
  ASSERT_TRUE(log->AppendAsFollower(first).ok());
  // Offsets 5..9 were compacted away on the leader.
  std::vector<uint8_t> after_gap = LeaderBatch(10, 2, 5);
  ASSERT_TRUE(log->AppendAsFollower(after_gap).ok());
  EXPECT_EQ(log->log_end_offset(), 15);

  std::vector<uint8_t> overlap = LeaderBatch(14, 2, 1);
  Result<AppendResult> r = log->AppendAsFollower(overlap);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> older_epoch = LeaderBatch(15, 1, 1);
  r = log->AppendAsFollower(older_epoch);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log->log_end_offset(), 15);

  // Reads skip the gap.
  Result<ReadResult> read = log->Read(5, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->first_offset, 10);
}

TEST_F(FollowerAppendTest, SurvivesAnUncleanReopen) {
  {
    std::unique_ptr<Log> log = OpenLogOrFail(dir_.path(), {}, Options());
    ASSERT_TRUE(log);
    std::vector<uint8_t> a = LeaderBatch(0, 1, 3);
    std::vector<uint8_t> b = LeaderBatch(3, 4, 3);
    ASSERT_TRUE(log->AppendAsFollower(a).ok());
    ASSERT_TRUE(log->AppendAsFollower(b).ok());
    ASSERT_TRUE(log->Flush().ok());
    // No Close: as after kill -9 (the flushed data is durable).
  }
  std::unique_ptr<Log> log = OpenLogOrFail(dir_.path(), {}, Options());
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(log->EndOffsetForEpoch(1), std::make_pair(1, int64_t{3}));
  EXPECT_EQ(log->EndOffsetForEpoch(4), std::make_pair(4, int64_t{6}));
}

}  // namespace
}  // namespace sluice::storage
