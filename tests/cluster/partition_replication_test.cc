// Partition's replica roles: a leader answers acks=all once every ISR
// member has the batch durably, a follower refuses appends and copies its
// leader's batches, and a leadership change answers waiting writers.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/partition.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_header.h"
#include "storage/log.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

std::shared_ptr<storage::Log> OpenLog(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto log = storage::Log::Open(dir, storage::LogConfig{}, storage::LogOptions{});
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::shared_ptr<storage::Log>(std::move(*log)) : nullptr;
}

std::vector<uint8_t> RecordsOfV(int records) {
  model::RecordBatchBuilder builder;
  for (int i = 0; i < records; ++i) builder.Add(1000 + i, std::nullopt, model::AsBytes("v"));
  return builder.Build().value();
}

Partition::Leadership Lead(int32_t epoch, std::vector<int32_t> isr) {
  Partition::Leadership l;
  l.local_id = 1;
  l.leader_epoch = epoch;
  l.partition_epoch = 0;
  l.replicas = {1, 2, 3};
  l.isr = std::move(isr);
  return l;
}

class PartitionReplicationTest : public ::testing::Test {
 protected:
  void Flush(Partition& p) {
    ASSERT_TRUE(p.log().Flush().ok());
    p.OnFlushed();
  }
  testing::TempDir dir_;
};

TEST_F(PartitionReplicationTest, AcksAllWaitsForEveryIsrMember) {
  Partition p({"t", 0}, TopicId{}, OpenLog(dir_.path()), 0);
  p.BecomeLeader(Lead(1, {1, 2, 3}), 0);
  EXPECT_TRUE(p.has_followers());
  EXPECT_EQ(3u, p.isr_size());
  auto batch = RecordsOfV(10);
  ASSERT_TRUE(p.Append(batch, -1).ok());
  std::optional<Status> answered;
  p.WhenCommitted(10, [&](Status s, size_t) { answered = s; });
  Flush(p);
  EXPECT_EQ(0, p.high_watermark()) << "the followers have nothing yet";
  EXPECT_FALSE(answered.has_value());
  ASSERT_TRUE(p.OnFollowerFetch(2, 10, 1).ok());
  EXPECT_FALSE(answered.has_value());
  ASSERT_TRUE(p.OnFollowerFetch(3, 4, 1).ok());
  EXPECT_EQ(4, p.high_watermark());
  EXPECT_FALSE(answered.has_value());
  ASSERT_TRUE(p.OnFollowerFetch(3, 10, 2).ok());
  EXPECT_EQ(10, p.high_watermark());
  ASSERT_TRUE(answered.has_value());
  EXPECT_TRUE(answered->ok());
}

TEST_F(PartitionReplicationTest, ASmallerIsrReleasesWaitingWrites) {
  Partition p({"t", 0}, TopicId{}, OpenLog(dir_.path()), 0);
  p.BecomeLeader(Lead(1, {1, 2, 3}), 0);
  auto batch = RecordsOfV(5);
  ASSERT_TRUE(p.Append(batch, -1).ok());
  Flush(p);
  ASSERT_TRUE(p.OnFollowerFetch(2, 5, 1).ok());
  std::optional<Status> answered;
  p.WhenCommitted(5, [&](Status s, size_t) { answered = s; });
  EXPECT_FALSE(answered.has_value());
  // Follower 3 never fetched; the controller took it out of the ISR.
  p.ApplyIsr(/*leader_epoch=*/1, {1, 2}, /*partition_epoch=*/1, 10);
  ASSERT_TRUE(answered.has_value());
  EXPECT_TRUE(answered->ok());
  EXPECT_EQ(5, p.high_watermark());
  EXPECT_EQ(1, p.partition_epoch());
  // An ISR for a leader epoch that is not the current one is ignored.
  p.ApplyIsr(/*leader_epoch=*/0, {1}, 2, 11);
  EXPECT_EQ((std::vector<int32_t>{1, 2}), p.isr());
}

TEST_F(PartitionReplicationTest, LosingLeadershipAnswersWaitersAndRefusesAppends) {
  Partition p({"t", 0}, TopicId{}, OpenLog(dir_.path()), 0);
  p.BecomeLeader(Lead(1, {1, 2}), 0);
  auto batch = RecordsOfV(3);
  ASSERT_TRUE(p.Append(batch, -1).ok());
  std::optional<Status> answered;
  p.WhenCommitted(3, [&](Status s, size_t) { answered = s; });
  p.BecomeFollower(/*leader_id=*/2, /*leader_epoch=*/2, /*partition_epoch=*/1);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(StatusCode::kNotLeader, answered->code());
  EXPECT_FALSE(p.is_leader());
  EXPECT_EQ(2, p.leader_id());
  EXPECT_EQ(2, p.leader_epoch());
  auto more = RecordsOfV(1);
  EXPECT_EQ(StatusCode::kNotLeader, p.Append(more, -1).status().code());
  EXPECT_EQ(StatusCode::kNotLeader, p.OnFollowerFetch(3, 0, 0).code());
  std::optional<Status> late;
  EXPECT_EQ(0u, p.WhenCommitted(1, [&](Status s, size_t) { late = s; }));
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(StatusCode::kNotLeader, late->code());
}

// The produce handler registers its acks=all wait after the append; the
// append says whether it was replicated, so a write whose leader became a
// follower in between still waits for the ISR (and is refused), rather than
// for this replica's flush alone.
TEST_F(PartitionReplicationTest, AnAppendSaysWhetherItWaitsForTheIsr) {
  Partition p({"t", 0}, TopicId{}, OpenLog(dir_.path()), 0);
  auto single = RecordsOfV(1);
  auto alone = p.Append(single, -1);
  ASSERT_TRUE(alone.ok());
  EXPECT_FALSE(alone->replicated);
  p.BecomeLeader(Lead(1, {1, 2}), 0);
  auto batch = RecordsOfV(2);
  auto appended = p.Append(batch, -1);
  ASSERT_TRUE(appended.ok());
  EXPECT_TRUE(appended->replicated);
  p.BecomeFollower(/*leader_id=*/2, /*leader_epoch=*/2, /*partition_epoch=*/1);
  EXPECT_FALSE(p.has_followers());
  std::optional<Status> answered;
  p.WhenCommitted(appended->last_offset + 1, [&](Status s, size_t) { answered = s; });
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(StatusCode::kNotLeader, answered->code());
}

TEST_F(PartitionReplicationTest, AFollowerCopiesAndExposesOnlyWhatItHasDurably) {
  Partition leader({"t", 0}, TopicId{}, OpenLog(dir_.path() / "leader"), 0);
  Partition follower({"t", 0}, TopicId{}, OpenLog(dir_.path() / "follower"), 0);
  leader.BecomeLeader(Lead(4, {1, 2}), 0);
  follower.BecomeFollower(1, 4, 0);
  for (int i = 0; i < 3; ++i) {
    auto b = RecordsOfV(2);
    ASSERT_TRUE(leader.Append(b, -1).ok());
  }
  auto read = leader.Read(0, 1 << 20, leader.log_end_offset());
  ASSERT_TRUE(read.ok());
  for (const FileSlice& slice : read->slices) {
    std::vector<uint8_t> bytes(slice.length);
    ASSERT_TRUE(ReadFileSlice(slice, bytes).ok());
    // A slice may hold several batches: the follower appends them one by one.
    for (size_t at = 0; at < bytes.size();) {
      auto h = model::ParseRecordBatchHeader(std::span<const uint8_t>(bytes).subspan(at));
      ASSERT_TRUE(h.ok());
      auto appended = follower.AppendAsFollower(std::span<uint8_t>(bytes).subspan(at, h->size_bytes()), 4);
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
      at += h->size_bytes();
    }
  }
  EXPECT_EQ(6, follower.log_end_offset());
  EXPECT_EQ(std::make_pair(4, int64_t{6}), follower.EndOffsetForEpoch(4));
  follower.SetLeaderHighWatermark(4);
  EXPECT_EQ(0, follower.high_watermark()) << "nothing is durable on the follower yet";
  Flush(follower);
  EXPECT_EQ(4, follower.high_watermark());
  // A follower truncates (KIP-101) and a leader refuses to.
  EXPECT_EQ(StatusCode::kAborted, follower.TruncateTo(2, /*leader_epoch=*/3).code());
  ASSERT_TRUE(follower.TruncateTo(2, 4).ok());
  EXPECT_EQ(2, follower.log_end_offset());
  EXPECT_EQ(2, follower.high_watermark());
  EXPECT_EQ(StatusCode::kAborted, leader.TruncateTo(0, 4).code());
  auto b = RecordsOfV(1);
  EXPECT_EQ(StatusCode::kAborted, leader.AppendAsFollower(b, 4).status().code());
}

TEST_F(PartitionReplicationTest, ASingleNodePartitionIsItsOwnIsr) {
  Partition p({"t", 0}, TopicId{}, OpenLog(dir_.path()), 0);
  EXPECT_TRUE(p.is_leader());
  EXPECT_FALSE(p.has_followers());
  EXPECT_EQ(1u, p.isr_size());
  auto batch = RecordsOfV(4);
  ASSERT_TRUE(p.Append(batch, -1).ok());
  Flush(p);
  EXPECT_EQ(4, p.high_watermark());
}

}  // namespace
}  // namespace sluice::cluster
