// Unit tests of the small pieces: indexes, checkpoints, the epoch cache,
// partition directory names.
#include <gtest/gtest.h>

#include "base/endian.h"
#include "storage/checkpoint.h"
#include "storage/index.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_manager.h"
#include "storage/segment.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;

std::shared_ptr<File> OpenFile(const std::filesystem::path& p) {
  Result<std::shared_ptr<File>> f = FileSystem::Default()->Open(p, true);
  EXPECT_TRUE(f.ok());
  return *f;
}

TEST(OffsetIndexTest, FloorFindsLastEntryAtOrBelowTarget) {
  OffsetIndex idx(100, 1000);
  idx.Append(110, 4000);
  idx.Append(120, 8000);
  idx.Append(130, 12000);
  EXPECT_FALSE(idx.Floor(109).has_value());
  EXPECT_EQ(idx.Floor(110)->position, 4000u);
  EXPECT_EQ(idx.Floor(119)->position, 4000u);
  EXPECT_EQ(idx.Floor(120)->position, 8000u);
  EXPECT_EQ(idx.Floor(1'000'000)->position, 12000u);
}

TEST(OffsetIndexTest, WriteLoadRoundTripUsesKafkaEntryFormat) {
  TempDir dir;
  auto f = OpenFile(dir.path() / "0.index");
  OffsetIndex idx(100, 1000);
  idx.Append(110, 4000);
  idx.Append(120, 8000);
  ASSERT_TRUE(idx.WriteTo(*f).ok());
  ASSERT_EQ(*f->Size(), 16u);
  uint8_t raw[8];
  ASSERT_TRUE(ReadFully(*f, 8, raw).ok());
  EXPECT_EQ(LoadBigEndian<int32_t>(raw), 20);     // relative offset
  EXPECT_EQ(LoadBigEndian<uint32_t>(raw + 4), 8000u);  // position
  OffsetIndex loaded(100, 1000);
  ASSERT_TRUE(loaded.Load(*f, 9000).ok());
  EXPECT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded.back().offset, 120);
}

TEST(OffsetIndexTest, TruncationRewritesTheFileShorter) {
  TempDir dir;
  auto f = OpenFile(dir.path() / "0.index");
  OffsetIndex idx(0, 1000);
  for (int i = 1; i <= 5; ++i) idx.Append(i * 10, static_cast<uint32_t>(i * 100));
  ASSERT_TRUE(idx.WriteTo(*f).ok());
  idx.TruncateToPosition(300);
  ASSERT_TRUE(idx.WriteTo(*f).ok());
  EXPECT_EQ(*f->Size(), 16u);
}

TEST(OffsetIndexTest, LoadRejectsSizeNotMultipleOfEntry) {
  TempDir dir;
  auto f = OpenFile(dir.path() / "0.index");
  uint8_t junk[5] = {};
  ASSERT_TRUE(f->Write(0, junk).ok());
  OffsetIndex idx(0, 1000);
  EXPECT_TRUE(idx.Load(*f, 1 << 20).IsCorruption());
}

TEST(OffsetIndexTest, LoadRejectsNonMonotonicAndOutOfFileEntries) {
  TempDir dir;
  auto f = OpenFile(dir.path() / "0.index");
  uint8_t e[16];
  StoreBigEndian<int32_t>(e, 10);
  StoreBigEndian<uint32_t>(e + 4, 100);
  StoreBigEndian<int32_t>(e + 8, 5);  // offset goes back
  StoreBigEndian<uint32_t>(e + 12, 200);
  ASSERT_TRUE(f->Write(0, e).ok());
  OffsetIndex idx(0, 1000);
  EXPECT_TRUE(idx.Load(*f, 1 << 20).IsCorruption());
  EXPECT_TRUE(idx.empty());
  StoreBigEndian<int32_t>(e + 8, 20);
  ASSERT_TRUE(f->Write(0, e).ok());
  EXPECT_TRUE(idx.Load(*f, 1 << 20).ok());
  EXPECT_TRUE(idx.Load(*f, 150).IsCorruption());  // position 200 beyond a 150-byte log
}

TEST(TimeIndexTest, OnlyGrowingTimestampsAreAppendedAndLastBelowIsStrict) {
  TimeIndex idx(0, 1000);
  idx.MaybeAppend(100, 5);
  idx.MaybeAppend(100, 9);  // not above: skipped
  idx.MaybeAppend(200, 12);
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_FALSE(idx.LastBelow(100).has_value());
  EXPECT_EQ(idx.LastBelow(101)->offset, 5);
  EXPECT_EQ(idx.LastBelow(200)->offset, 5);
  EXPECT_EQ(idx.LastBelow(201)->offset, 12);
}

TEST(TimeIndexTest, WriteLoadRoundTripUsesTwelveByteEntries) {
  TempDir dir;
  auto f = OpenFile(dir.path() / "0.timeindex");
  TimeIndex idx(50, 1000);
  idx.MaybeAppend(1000, 55);
  idx.MaybeAppend(2000, 60);
  ASSERT_TRUE(idx.WriteTo(*f).ok());
  EXPECT_EQ(*f->Size(), 24u);
  TimeIndex loaded(50, 1000);
  ASSERT_TRUE(loaded.Load(*f).ok());
  EXPECT_EQ(loaded.back().timestamp, 2000);
  EXPECT_EQ(loaded.back().offset, 60);
}

TEST(CheckpointTest, KafkaTextFormatRoundTrip) {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  ASSERT_TRUE(WriteCheckpoint(fs, dir.path(), "cp", {"1 0", "3 17"}).ok());
  Result<std::vector<uint8_t>> raw = ReadWholeFile(fs, dir.path() / "cp");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(std::string(raw->begin(), raw->end()), "0\n2\n1 0\n3 17\n");
  Result<std::vector<std::string>> lines = ReadCheckpoint(fs, dir.path() / "cp");
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(*lines, (std::vector<std::string>{"1 0", "3 17"}));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "cp.tmp"));
}

TEST(CheckpointTest, CountMismatchIsCorruptionAndAbsenceIsNotFound) {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  EXPECT_TRUE(ReadCheckpoint(fs, dir.path() / "nope").status().IsNotFound());
  auto f = OpenFile(dir.path() / "cp");
  std::string text = "0\n3\n1 0\n";
  ASSERT_TRUE(f->Write(0, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}).ok());
  EXPECT_TRUE(ReadCheckpoint(fs, dir.path() / "cp").status().IsCorruption());
}

TEST(LeaderEpochCacheTest, EndOffsetForFollowsKafkaSemantics) {
  TempDir dir;
  auto cache = LeaderEpochCache::Load(FileSystem::Default(), dir.path()).value();
  ASSERT_TRUE(cache->Assign(1, 0).ok());
  ASSERT_TRUE(cache->Assign(3, 10).ok());
  ASSERT_TRUE(cache->Assign(5, 25).ok());
  EXPECT_EQ(cache->EndOffsetFor(5, 40), std::make_pair(5, int64_t{40}));  // latest: LEO
  EXPECT_EQ(cache->EndOffsetFor(3, 40), std::make_pair(3, int64_t{25}));
  EXPECT_EQ(cache->EndOffsetFor(4, 40), std::make_pair(3, int64_t{25}));  // unknown: floor
  EXPECT_EQ(cache->EndOffsetFor(0, 40), std::make_pair(0, int64_t{0}));   // older than all
  EXPECT_EQ(cache->EndOffsetFor(6, 40), std::make_pair(-1, int64_t{-1}));
  EXPECT_FALSE(cache->Assign(2, 30).ok());  // epochs never go back
}

TEST(LeaderEpochCacheTest, TruncationsPersistAndReload) {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  auto cache = LeaderEpochCache::Load(fs, dir.path()).value();
  ASSERT_TRUE(cache->Assign(1, 0).ok());
  ASSERT_TRUE(cache->Assign(2, 10).ok());
  ASSERT_TRUE(cache->Assign(4, 20).ok());
  ASSERT_TRUE(cache->TruncateFromEnd(20).ok());  // epoch 4 started at 20: gone
  ASSERT_TRUE(cache->TruncateFromStart(15).ok());
  auto reloaded = LeaderEpochCache::Load(fs, dir.path()).value();
  EXPECT_EQ(reloaded->entries(), (std::vector<EpochEntry>{{2, 15}}));
}

TEST(TopicPartitionTest, ParsesKafkaDirectoryNames) {
  EXPECT_EQ(TopicPartition::ParseDirName("orders-3"), (TopicPartition{"orders", 3}));
  EXPECT_EQ(TopicPartition::ParseDirName("my-topic-12"), (TopicPartition{"my-topic", 12}));
  EXPECT_FALSE(TopicPartition::ParseDirName("orders").has_value());
  EXPECT_FALSE(TopicPartition::ParseDirName("orders-").has_value());
  EXPECT_FALSE(TopicPartition::ParseDirName("orders-03").has_value());
  EXPECT_FALSE(TopicPartition::ParseDirName("ord ers-1").has_value());
  EXPECT_FALSE(TopicPartition::ParseDirName("lost+found").has_value());
}

TEST(SegmentNameTest, TwentyDigitBaseOffsets) {
  EXPECT_EQ(SegmentFileName(42, ".log"), "00000000000000000042.log");
  EXPECT_EQ(ParseSegmentLogName("00000000000000000042.log"), 42);
  EXPECT_FALSE(ParseSegmentLogName("00000000000000000042.index").has_value());
  EXPECT_FALSE(ParseSegmentLogName("42.log").has_value());
  EXPECT_FALSE(ParseSegmentLogName("0000000000000000004x.log").has_value());
}

}  // namespace
}  // namespace sluice::storage
