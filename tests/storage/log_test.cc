// Log behaviour on real files: offsets, reads, lookups, rolling, retention,
// truncation, epochs, restarts.
#include "storage/log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "base/crc32c.h"
#include "base/endian.h"
#include "storage/checkpoint.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

struct Expected {
  int64_t base, last, ts;
};

class LogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> OpenLog(bool clean = false) {
    return OpenLogOrFail(dir_.path(), config_, {fs_, clock_.fn(), clean});
  }

  // Appends `n` batches of 1..4 records with increasing timestamps.
  std::vector<Expected> Fill(Log& log, int n, size_t value_bytes = 40, int64_t ts0 = 1000) {
    std::vector<Expected> out;
    std::mt19937 rng(7);
    for (int i = 0; i < n; ++i) {
      int records = 1 + static_cast<int>(rng() % 4);
      int64_t ts = ts0 + i * 10;
      Result<AppendResult> r = AppendBatch(log, records, ts, value_bytes);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      out.push_back({r->base_offset, r->last_offset, ts});
    }
    return out;
  }

  // Every offset of every batch reads back starting at that batch.
  void CheckEveryOffset(Log& log, const std::vector<Expected>& batches) {
    for (const Expected& b : batches) {
      for (int64_t o : {b.base, (b.base + b.last) / 2, b.last}) {
        Result<ReadResult> r = log.Read(o, 1);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        std::vector<model::RecordBatchHeader> hs = Batches(SliceBytes(*r));
        ASSERT_EQ(hs.size(), 1u) << "offset " << o;
        EXPECT_EQ(hs[0].base_offset, b.base);
        EXPECT_EQ(hs[0].last_offset(), b.last);
        EXPECT_EQ(r->first_offset, b.base);
        EXPECT_EQ(r->next_offset, b.last + 1);
      }
    }
  }

  TempDir dir_;
  FileSystem* fs_ = FileSystem::Default();
  FakeClock clock_;
  LogConfig config_ = [] {
    LogConfig c;
    c.segment_bytes = 4096;
    c.index_interval_bytes = 256;
    return c;
  }();
};

TEST_F(LogTest, AppendAssignsOffsetsFromLeoAndStampsEpochInHeader) {
  auto log = OpenLog();
  Result<AppendResult> a = AppendBatch(*log, 5, 1000, 16, /*epoch=*/3);
  Result<AppendResult> b = AppendBatch(*log, 2, 1001, 16, /*epoch=*/3);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->base_offset, 0);
  EXPECT_EQ(a->last_offset, 4);
  EXPECT_EQ(a->position, 0u);
  EXPECT_EQ(b->base_offset, 5);
  EXPECT_EQ(b->last_offset, 6);
  EXPECT_GT(b->position, 0u);
  EXPECT_EQ(log->log_end_offset(), 7);
  Result<ReadResult> r = log->Read(0, 1 << 20);
  ASSERT_TRUE(r.ok());
  auto hs = Batches(SliceBytes(*r));
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs[1].base_offset, 5);
  EXPECT_EQ(hs[1].partition_leader_epoch, 3);
}

TEST_F(LogTest, RoundTripAcrossManySegmentsBeforeAndAfterReopen) {
  std::vector<Expected> batches;
  {
    auto log = OpenLog();
    batches = Fill(*log, 300);
    EXPECT_GT(log->segment_count(), 5u);
    CheckEveryOffset(*log, batches);
    ASSERT_TRUE(log->Close().ok());
  }
  {
    auto log = OpenLog(/*clean=*/true);
    EXPECT_EQ(log->log_end_offset(), batches.back().last + 1);
    CheckEveryOffset(*log, batches);
    // Unclean next time: no Close.
    Result<AppendResult> more = AppendBatch(*log, 2, 99999);
    ASSERT_TRUE(more.ok());
    EXPECT_EQ(more->base_offset, batches.back().last + 1);
    batches.push_back({more->base_offset, more->last_offset, 99999});
  }
  auto log = OpenLog(/*clean=*/false);
  EXPECT_EQ(log->log_end_offset(), batches.back().last + 1);
  CheckEveryOffset(*log, batches);
}

TEST_F(LogTest, ANewSegmentSizeAppliesToTheActiveSegmentAtOnce) {
  // As after a restart: opened with large segments, then given the topic's
  // smaller segment.bytes. The active segment must roll by the new size.
  config_.segment_bytes = 1 << 30;
  auto log = OpenLog();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 1000 + i, 100).ok());
  ASSERT_EQ(log->segment_count(), 1u);
  LogConfig smaller = log->config();
  smaller.segment_bytes = 1024;
  log->UpdateConfig(smaller);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 2000 + i, 100).ok());
  EXPECT_GE(log->segment_count(), 3u);
}

TEST_F(LogTest, SegmentBoundariesReadFromTheRightSegment) {
  auto log = OpenLog();
  auto batches = Fill(*log, 200);
  std::vector<int64_t> bases = log->segment_bases();
  ASSERT_GT(bases.size(), 3u);
  for (size_t i = 0; i < bases.size(); ++i) {
    // First offset of each segment.
    Result<ReadResult> r = log->Read(bases[i], 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first_offset, bases[i]);
    // Last offset of the previous segment.
    if (i > 0) {
      Result<ReadResult> p = log->Read(bases[i] - 1, 1);
      ASSERT_TRUE(p.ok());
      EXPECT_EQ(p->next_offset, bases[i]);
    }
  }
}

TEST_F(LogTest, ReadsOutsideTheLogAreOutOfRangeAndAtTheEndEmpty) {
  auto log = OpenLog();
  Fill(*log, 10);
  const int64_t leo = log->log_end_offset();
  EXPECT_TRUE(log->Read(leo + 1, 100).status().IsOutOfRange());
  EXPECT_TRUE(log->Read(-1, 100).status().IsOutOfRange());
  Result<ReadResult> at_end = log->Read(leo, 100);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->slices.empty());
  EXPECT_EQ(at_end->next_offset, leo);
}

TEST_F(LogTest, MaxBytesAlwaysReturnsOneWholeBatchAndNeverSplitsOne) {
  auto log = OpenLog();
  auto batches = Fill(*log, 100);
  Result<ReadResult> one = log->Read(0, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Batches(SliceBytes(*one)).size(), 1u);
  Result<ReadResult> all = log->Read(0, 1 << 20);
  ASSERT_TRUE(all.ok());
  EXPECT_GT(all->slices.size(), 1u);  // spans segments
  auto hs = Batches(SliceBytes(*all));
  ASSERT_EQ(hs.size(), batches.size());
  for (size_t i = 0; i < hs.size(); ++i) EXPECT_EQ(hs[i].base_offset, batches[i].base);
  // A limit between batch sizes returns only whole batches within it.
  const uint64_t limit = all->size_bytes / 3;
  Result<ReadResult> part = log->Read(0, limit);
  ASSERT_TRUE(part.ok());
  EXPECT_LE(part->size_bytes, limit);
  auto phs = Batches(SliceBytes(*part));
  EXPECT_EQ(part->next_offset, phs.back().last_offset() + 1);
}

TEST_F(LogTest, UpperBoundOffsetHidesBatchesAtOrAboveIt) {
  auto log = OpenLog();
  auto batches = Fill(*log, 50);
  const int64_t hw = batches[20].base;
  log->SetHighWatermark(hw);
  EXPECT_EQ(log->high_watermark(), hw);
  Result<ReadResult> r = log->Read(0, 1 << 20, log->high_watermark());
  ASSERT_TRUE(r.ok());
  auto hs = Batches(SliceBytes(*r));
  ASSERT_EQ(hs.size(), 20u);
  EXPECT_EQ(r->next_offset, hw);
  Result<ReadResult> at_hw = log->Read(hw, 1 << 20, hw);
  ASSERT_TRUE(at_hw.ok());
  EXPECT_TRUE(at_hw->slices.empty());
  log->SetHighWatermark(1'000'000);
  EXPECT_EQ(log->high_watermark(), log->log_end_offset());  // clamped
}

TEST_F(LogTest, TimestampLookupFindsFirstRecordAtOrAboveInSingleTimestampBatches) {
  std::vector<Expected> batches;
  {
    auto log = OpenLog();
    batches = Fill(*log, 200);  // ts = 1000 + 10 i
    auto check = [&](Log& l) {
      auto at = [&](int64_t ts) { return l.FindOffsetByTimestamp(ts); };
      EXPECT_EQ((*at(0))->offset, 0);                        // below all: first batch
      EXPECT_EQ((*at(1000))->offset, 0);
      EXPECT_EQ((*at(1001))->offset, batches[1].base);       // between: next batch
      EXPECT_EQ((*at(1500))->offset, batches[50].base);      // exact
      EXPECT_EQ((*at(1500))->timestamp, 1500);
      EXPECT_EQ((*at(2990))->offset, batches[199].base);     // last batch
      EXPECT_FALSE(at(2991)->has_value());                   // above all
      for (size_t i = 0; i < batches.size(); i += 7) {
        EXPECT_EQ((*at(batches[i].ts))->offset, batches[i].base);
      }
    };
    check(*log);
    ASSERT_TRUE(log->Close().ok());
    auto reopened = OpenLog(true);
    check(*reopened);
  }
}

TEST_F(LogTest, TimestampLookupHandlesOutOfOrderTimestamps) {
  auto log = OpenLog();
  ASSERT_TRUE(AppendBatch(*log, 1, 5000).ok());  // offset 0
  ASSERT_TRUE(AppendBatch(*log, 1, 1000).ok());  // offset 1
  ASSERT_TRUE(AppendBatch(*log, 1, 7000).ok());  // offset 2
  EXPECT_EQ((*log->FindOffsetByTimestamp(900))->offset, 0);
  EXPECT_EQ((*log->FindOffsetByTimestamp(5000))->offset, 0);
  EXPECT_EQ((*log->FindOffsetByTimestamp(6000))->offset, 2);
}

TEST_F(LogTest, RollsWhenSegmentMsElapses) {
  config_.segment_bytes = 1 << 30;
  config_.segment_ms = 1000;
  auto log = OpenLog();
  ASSERT_TRUE(AppendBatch(*log, 1, clock_.now()).ok());
  ASSERT_TRUE(AppendBatch(*log, 1, clock_.now()).ok());
  EXPECT_EQ(log->segment_count(), 1u);
  clock_.Advance(1001);
  ASSERT_TRUE(AppendBatch(*log, 1, clock_.now()).ok());
  EXPECT_EQ(log->segment_bases(), (std::vector<int64_t>{0, 2}));
}

TEST_F(LogTest, RollsWhenTheOffsetIndexIsFull) {
  config_.segment_bytes = 1 << 30;
  config_.index_interval_bytes = 0;  // an entry for every batch after the first
  config_.segment_index_bytes = 24;  // 3 offset entries, 2 time entries
  auto log = OpenLog();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 1000 + i).ok());
  EXPECT_GT(log->segment_count(), 2u);
  ASSERT_TRUE(log->Close().ok());
  auto reopened = OpenLog(true);
  EXPECT_EQ(reopened->log_end_offset(), 10);
  for (int64_t o = 0; o < 10; ++o) EXPECT_EQ(reopened->Read(o, 1)->first_offset, o);
}

TEST_F(LogTest, RollsWhenTheRelativeOffsetWouldNotFitIn32Bits) {
  config_.segment_bytes = 1 << 30;
  auto log = OpenLog();
  // A batch claiming a huge offset span (last_offset_delta is CRC-covered).
  std::vector<uint8_t> big = MakeBatch(1, 1000);
  StoreBigEndian<int32_t>(big.data() + model::batch_layout::kLastOffsetDelta, INT32_MAX - 10);
  StoreBigEndian<uint32_t>(big.data() + model::batch_layout::kCrc, model::ComputeBatchCrc(big));
  ASSERT_TRUE(log->Append(big, 0).ok());
  ASSERT_TRUE(AppendBatch(*log, 5, 1000).ok());  // relative last offset INT32_MAX - 6: fits
  EXPECT_EQ(log->segment_count(), 1u);
  Result<AppendResult> r = AppendBatch(*log, 10, 1000);  // would reach INT32_MAX + 4
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(log->segment_count(), 2u);
  EXPECT_EQ(r->segment_base, r->base_offset);
}

TEST_F(LogTest, RetentionByTimeDeletesOldSegmentsButNeverTheActiveOne) {
  config_.retention_ms = 60'000;
  auto log = OpenLog();
  const int64_t old_ts = clock_.now() - 120'000;
  Fill(*log, 100, 40, old_ts);  // all old
  const size_t before = log->segment_count();
  ASSERT_GT(before, 3u);
  Result<RetentionResult> deleted = log->EnforceRetention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(static_cast<size_t>(deleted->segments), before - 1);
  EXPECT_EQ(deleted->by_time, deleted->segments);
  EXPECT_EQ(deleted->log_start_offset, log->log_start_offset());
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(log->log_start_offset(), log->segment_bases().front());
  EXPECT_TRUE(log->Read(0, 100).status().IsOutOfRange());
  // New data is kept.
  Fill(*log, 100, 40, clock_.now());
  EXPECT_EQ(log->EnforceRetention()->segments, 0);
}

TEST_F(LogTest, RetentionBySizeKeepsTheNewestSegmentsWithinTheLimit) {
  config_.retention_bytes = 3 * 4096;
  config_.retention_ms = -1;  // the test timestamps are from 1970
  auto log = OpenLog();
  Fill(*log, 300);
  ASSERT_TRUE(log->EnforceRetention().ok());
  // Kafka semantics: delete the oldest segment only while what remains is
  // still at least retention.bytes.
  const uint64_t oldest = std::filesystem::file_size(
      dir_.path() / SegmentFileName(log->segment_bases().front(), ".log"));
  EXPECT_GE(log->size_bytes(), 3u * 4096u);
  EXPECT_LT(log->size_bytes() - oldest, 3u * 4096u);
  const int64_t start = log->log_start_offset();
  EXPECT_EQ(start, log->segment_bases().front());
  ASSERT_TRUE(log->Close().ok());
  auto reopened = OpenLog(true);
  EXPECT_EQ(reopened->log_start_offset(), start);
  EXPECT_EQ(reopened->Read(start, 1)->first_offset, start);
}

TEST_F(LogTest, TruncateAcrossSegmentsThenAppendContinuesAtTheCut) {
  auto log = OpenLog();
  auto batches = Fill(*log, 200);
  const size_t segs = log->segment_count();
  const Expected& cut = batches[60];
  ASSERT_TRUE(log->TruncateTo(cut.base).ok());
  EXPECT_EQ(log->log_end_offset(), cut.base);
  EXPECT_LT(log->segment_count(), segs);
  EXPECT_TRUE(log->Read(cut.base + 1, 100).status().IsOutOfRange());
  Result<AppendResult> r = AppendBatch(*log, 3, 5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->base_offset, cut.base);
  // Mid-batch truncation cuts at the batch boundary (Kafka semantics).
  ASSERT_TRUE(log->TruncateTo(batches[30].base + 1).ok());
  if (batches[30].last > batches[30].base) {
    EXPECT_EQ(log->log_end_offset(), batches[30].base);
  }
  const int64_t leo = log->log_end_offset();
  batches.resize(30);
  log.reset();  // unclean
  auto reopened = OpenLog();
  EXPECT_EQ(reopened->log_end_offset(), leo);
  CheckEveryOffset(*reopened, batches);
}

TEST_F(LogTest, TruncateFullyStartsAnEmptyLogPastTheOldEndThatSurvivesAReopen) {
  auto log = OpenLog();
  const std::vector<Expected> batches = Fill(*log, 120);
  ASSERT_GT(log->segment_count(), 1u);
  ASSERT_FALSE(log->epochs().empty());
  const int64_t old_end = log->log_end_offset();
  EXPECT_EQ(log->TruncateFullyAndStartAt(old_end).code(), StatusCode::kInvalidArgument);

  const int64_t start = old_end + 500;
  ASSERT_TRUE(log->TruncateFullyAndStartAt(start).ok());
  EXPECT_EQ(log->log_start_offset(), start);
  EXPECT_EQ(log->log_end_offset(), start);
  EXPECT_EQ(log->high_watermark(), start);
  EXPECT_EQ(log->flushed_offset(), start);
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_TRUE(log->epochs().empty()) << "the old history no longer describes this log";
  EXPECT_TRUE(log->Read(batches.front().base, 100).status().IsOutOfRange());
  Result<AppendResult> r = AppendBatch(*log, 3, 5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->base_offset, start);
  ASSERT_TRUE(log->Flush().ok());
  const std::vector<Expected> after = {{r->base_offset, r->last_offset, 5}};

  log.reset();  // unclean: what was made durable must be what reopens
  auto reopened = OpenLog();
  EXPECT_EQ(reopened->log_start_offset(), start);
  EXPECT_EQ(reopened->log_end_offset(), start + 3);
  EXPECT_EQ(reopened->segment_count(), 1u);
  CheckEveryOffset(*reopened, after);
}

TEST_F(LogTest, TruncateIntoARolledSegmentLeavesNoStaleIndexEntries) {
  std::vector<Expected> batches;
  {
    auto log = OpenLog();
    batches = Fill(*log, 150);
    ASSERT_TRUE(log->Close().ok());  // every index file written
  }
  auto log = OpenLog(true);
  batches.resize(10);
  ASSERT_TRUE(log->TruncateTo(batches.back().last + 1).ok());
  EXPECT_EQ(log->segment_count(), 1u);
  // Different batch sizes, so old index positions no longer match batches.
  for (int i = 0; i < 60; ++i) {
    Result<AppendResult> r = AppendBatch(*log, 3, 7000 + i, 7);
    ASSERT_TRUE(r.ok());
    batches.push_back({r->base_offset, r->last_offset, 7000 + i});
  }
  ASSERT_TRUE(log->Close().ok());
  auto reopened = OpenLog(true);  // trusts the index files
  CheckEveryOffset(*reopened, batches);
}

TEST_F(LogTest, TruncateRecomputesMaxTimestampForLookups) {
  config_.segment_bytes = 1 << 20;
  auto log = OpenLog();
  ASSERT_TRUE(AppendBatch(*log, 1, 1000).ok());
  ASSERT_TRUE(AppendBatch(*log, 1, 9000).ok());
  ASSERT_TRUE(log->TruncateTo(1).ok());
  EXPECT_FALSE(log->FindOffsetByTimestamp(5000)->has_value());
  ASSERT_TRUE(AppendBatch(*log, 1, 6000).ok());
  EXPECT_EQ((*log->FindOffsetByTimestamp(5000))->offset, 1);
}

TEST_F(LogTest, ForEachBatchHeaderWalksFromTheBatchHoldingTheOffsetAcrossSegments) {
  auto log = OpenLog();
  const std::vector<Expected> batches = Fill(*log, 200);
  ASSERT_GT(log->segment_count(), 2u);
  for (const Expected& from : {batches[0], batches[77], batches[199]}) {
    for (int64_t offset : {from.base, from.last}) {
      std::vector<int64_t> seen;
      ASSERT_TRUE(log->ForEachBatchHeader(offset, [&](const model::RecordBatchHeader& h) {
                       seen.push_back(h.base_offset);
                     }).ok());
      std::vector<int64_t> want;
      for (const Expected& b : batches) {
        if (b.last >= offset) want.push_back(b.base);
      }
      EXPECT_EQ(seen, want) << "from offset " << offset;
    }
  }
}

TEST_F(LogTest, LeaderEpochCacheTracksEpochsTruncatesAndSurvivesRestart) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(AppendBatch(*log, 5, 1, 16, 0).ok());   // 0..4 epoch 0
    ASSERT_TRUE(AppendBatch(*log, 5, 2, 16, 2).ok());   // 5..9 epoch 2
    ASSERT_TRUE(AppendBatch(*log, 5, 3, 16, 2).ok());   // 10..14
    ASSERT_TRUE(AppendBatch(*log, 5, 4, 16, 4).ok());   // 15..19 epoch 4
    EXPECT_TRUE(AppendBatch(*log, 1, 5, 16, 3).status().code() == StatusCode::kInvalidArgument);
    EXPECT_EQ(log->EndOffsetForEpoch(0), std::make_pair(0, int64_t{5}));
    EXPECT_EQ(log->EndOffsetForEpoch(1), std::make_pair(0, int64_t{5}));
    EXPECT_EQ(log->EndOffsetForEpoch(2), std::make_pair(2, int64_t{15}));
    EXPECT_EQ(log->EndOffsetForEpoch(4), std::make_pair(4, int64_t{20}));
    ASSERT_TRUE(log->TruncateTo(15).ok());  // drops epoch 4
    EXPECT_EQ(log->EndOffsetForEpoch(2), std::make_pair(2, int64_t{15}));
    EXPECT_EQ(log->EndOffsetForEpoch(4), std::make_pair(-1, int64_t{-1}));
  }
  auto log = OpenLog();
  EXPECT_EQ(log->epochs(), (std::vector<EpochEntry>{{0, 0}, {2, 5}}));
  Result<std::vector<uint8_t>> raw = ReadWholeFile(fs_, dir_.path() / kLeaderEpochCheckpoint);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(std::string(raw->begin(), raw->end()), "0\n2\n0 0\n2 5\n");
}

TEST_F(LogTest, DeleteRecordsAdvancesStartInsideASegmentAndPersists) {
  std::vector<Expected> batches;
  int64_t start;
  {
    auto log = OpenLog();
    batches = Fill(*log, 200);
    const size_t segs = log->segment_count();
    start = batches[100].base + 1;  // inside a batch, inside a segment
    ASSERT_TRUE(log->AdvanceLogStartOffset(start).ok());
    EXPECT_EQ(log->log_start_offset(), start);
    EXPECT_LT(log->segment_count(), segs);
    EXPECT_LE(log->segment_bases().front(), start);
    EXPECT_TRUE(log->Read(start - 1, 100).status().IsOutOfRange());
    Result<ReadResult> r = log->Read(start, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first_offset, batches[100].base);  // the batch holding it
    EXPECT_TRUE(log->AdvanceLogStartOffset(log->log_end_offset() + 1).IsOutOfRange());
  }
  auto log = OpenLog();  // unclean
  EXPECT_EQ(log->log_start_offset(), start);
  EXPECT_TRUE(log->Read(start - 1, 100).status().IsOutOfRange());
  ASSERT_TRUE(log->Close().ok());
  auto clean = OpenLog(true);
  EXPECT_EQ(clean->log_start_offset(), start);
}

TEST_F(LogTest, FlushMessagesPolicySyncsAfterThatManyRecords) {
  config_.flush_messages = 10;
  auto log = OpenLog();
  ASSERT_TRUE(AppendBatch(*log, 4, 1).ok());
  ASSERT_TRUE(AppendBatch(*log, 4, 1).ok());
  EXPECT_EQ(log->flushed_offset(), 0);
  ASSERT_TRUE(AppendBatch(*log, 4, 1).ok());
  EXPECT_EQ(log->flushed_offset(), 12);
}

TEST_F(LogTest, FlushMsPolicySyncsOnceTheOldestAppendIsThatOld) {
  config_.flush_ms = 500;
  auto log = OpenLog();
  ASSERT_TRUE(AppendBatch(*log, 1, 1).ok());
  ASSERT_TRUE(log->MaybeFlush().ok());
  EXPECT_EQ(log->flushed_offset(), 0);
  clock_.Advance(501);
  ASSERT_TRUE(log->MaybeFlush().ok());
  EXPECT_EQ(log->flushed_offset(), 1);
}

TEST_F(LogTest, RecoveryPointIsPersistedWhenAFlushCompletesASegment) {
  auto log = OpenLog();
  Fill(*log, 100);
  ASSERT_TRUE(log->Flush().ok());
  Result<std::optional<int64_t>> rp =
      ReadOffsetCheckpoint(fs_, dir_.path() / kRecoveryPointCheckpoint);
  ASSERT_TRUE(rp.ok());
  EXPECT_EQ(rp->value_or(-1), log->log_end_offset());
}

TEST_F(LogTest, RejectsMalformedAndOversizedBatches) {
  config_.max_message_bytes = 200;
  auto log = OpenLog();
  std::vector<uint8_t> big = MakeBatch(1, 1, 300);
  EXPECT_EQ(log->Append(big, 0).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> b = MakeBatch(1, 1);
  b.push_back(0);  // trailing byte: not exactly one batch
  EXPECT_EQ(log->Append(b, 0).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> tiny(10, 0);
  EXPECT_EQ(log->Append(tiny, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST_F(LogTest, UnknownFilesInThePartitionDirectoryAreLeftAlone) {
  {
    auto log = OpenLog();
    Fill(*log, 50);
    ASSERT_TRUE(log->Close().ok());
  }
  std::filesystem::create_directory(dir_.path() / "some-dir");
  { std::ofstream(dir_.path() / "notes.txt") << "keep me"; }
  { std::ofstream(dir_.path() / "00000000000000000007.snapshot") << "x"; }
  auto log = OpenLog();
  EXPECT_GT(log->log_end_offset(), 0);
  ASSERT_TRUE(log->TruncateTo(0).ok());
  ASSERT_TRUE(log->Close().ok());
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "some-dir"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "00000000000000000007.snapshot"));
}

}  // namespace
}  // namespace sluice::storage

namespace sluice::storage {
namespace {

// DeleteRecords may start the log inside a batch; a truncation into that
// batch removes it whole, and the log start follows the end down so that
// start <= end holds, also after a reopen (found by fuzz/log_append_fuzzer).
TEST(LogTruncateTest, TruncatingTheBatchThatStraddlesTheLogStartMovesTheStartDown) {
  TempDir dir;
  {
    auto log = OpenLogOrFail(dir.path(), LogConfig{}, LogOptions{});
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(AppendBatch(*log, 10, 1000).ok());  // offsets 0..9
    ASSERT_TRUE(log->AdvanceLogStartOffset(5).ok());
    ASSERT_TRUE(log->TruncateTo(5).ok());
    EXPECT_EQ(0, log->log_end_offset());
    EXPECT_EQ(0, log->log_start_offset());
    ASSERT_TRUE(log->Close().ok());
  }
  auto log = OpenLogOrFail(dir.path(), LogConfig{}, LogOptions{});
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(0, log->log_end_offset());
  EXPECT_EQ(0, log->log_start_offset());
  auto appended = AppendBatch(*log, 2, 2000);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(0, appended->base_offset);
  EXPECT_TRUE(log->Read(0, 1 << 20).ok());
}

}  // namespace
}  // namespace sluice::storage
