#include "cluster/partition.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "base/endian.h"
#include "model/record_batch_header.h"

namespace sluice::cluster {

Partition::Partition(storage::TopicPartition tp, TopicId topic_id,
                     std::shared_ptr<storage::Log> log, int32_t leader_epoch)
    : tp_(std::move(tp)), topic_id_(topic_id), log_(std::move(log)), leader_epoch_(leader_epoch) {
  log_->SetHighWatermark(log_->flushed_offset());
}

Result<AppendOutcome> Partition::Append(std::span<uint8_t> batch, int64_t log_append_time_ms) {
  auto header = model::ParseRecordBatchHeader(batch);
  if (!header.ok()) return header.status();
  if (log_append_time_ms >= 0) {
    // LogAppendTime: the broker's clock replaces the producer's; the
    // timestamps are CRC-covered, so the CRC is recomputed (no re-encode).
    using namespace model::batch_layout;
    StoreBigEndian<int16_t>(batch.data() + kAttributes,
                            static_cast<int16_t>(header->attributes | 0x08));
    StoreBigEndian<int64_t>(batch.data() + kMaxTimestamp, log_append_time_ms);
    StoreBigEndian<uint32_t>(batch.data() + kCrc, model::ComputeBatchCrc(batch));
  }

  MutexLock lock(&append_mu_);
  if (!is_leader()) {
    return Status::NotLeader("this broker does not lead " + tp_.topic + "-" +
                             std::to_string(tp_.partition));
  }
  AppendOutcome out;
  out.log_append_time_ms = log_append_time_ms;
  // Leadership and followers change under append_mu_ too: this is what they
  // were for this batch.
  out.replicated = has_followers();
  const bool idempotent = header->producer_id >= 0;
  if (idempotent) {
    std::optional<BatchMetadata> duplicate;
    out.check = producers_.Check(*header, &duplicate);
    if (out.check == SequenceCheck::kDuplicate) {
      out.base_offset = duplicate->first_offset;
      out.last_offset = duplicate->last_offset;
      return out;
    }
    if (out.check != SequenceCheck::kAccept) return out;
  }
  auto appended = log_->Append(batch, leader_epoch());
  if (!appended.ok()) return appended.status();
  out.base_offset = appended->base_offset;
  out.last_offset = appended->last_offset;
  if (idempotent) producers_.Record(*header, out.base_offset, header->max_timestamp);
  lock.Unlock();
  // Followers' fetches wait for data past the high watermark.
  if (has_followers()) RunWaiters();
  return out;
}

Partition::EpochCheck Partition::CheckLeaderEpoch(int32_t current_leader_epoch) const {
  const int32_t epoch = leader_epoch();
  if (current_leader_epoch < 0 || current_leader_epoch == epoch) return EpochCheck::kOk;
  return current_leader_epoch > epoch ? EpochCheck::kUnknown : EpochCheck::kFenced;
}

Result<int64_t> Partition::DeleteRecordsBefore(int64_t offset) {
  if (!is_leader()) return Status::NotLeader("only the leader deletes records");
  const int64_t hw = log_->high_watermark();
  if (offset < 0 || offset > hw) {
    return Status::OutOfRange("offset " + std::to_string(offset) + " is outside [0, " +
                              std::to_string(hw) + "]");
  }
  Status s = log_->AdvanceLogStartOffset(offset);
  if (!s.ok()) return s;
  return log_->log_start_offset();
}

Status Partition::RebuildProducerState(uint64_t max_bytes) {
  int64_t offset = log_->log_start_offset();
  // Start at the segment that holds the last `max_bytes`, approximately:
  // idempotence only needs each producer's last few batches.
  auto bases = log_->segment_bases();
  if (log_->size_bytes() > max_bytes && bases.size() > 1) {
    offset = std::max(offset, bases[bases.size() - 2]);
  }
  MutexLock lock(&append_mu_);
  return log_->ForEachBatchHeader(offset, [this](const model::RecordBatchHeader& h) {
    append_mu_.AssertHeld();  // The walk runs synchronously, inside this lock.
    if (h.producer_id >= 0 && !h.is_control()) producers_.Record(h, h.base_offset, h.max_timestamp);
  });
}

void Partition::OnFlushed() { AdvanceHighWatermark(); }

int64_t Partition::TargetHighWatermarkLocked() {
  const int64_t flushed = log_->flushed_offset();
  if (!is_leader()) return std::min(leader_high_watermark_, flushed);
  return replica_set_.CommittableOffset(flushed);
}

void Partition::AdvanceHighWatermark() {
  std::vector<CommitWaiter> committed;
  size_t isr_size = 1;
  {
    MutexLock lock(&replica_mu_);
    isr_size = std::max<size_t>(replica_set_.isr().size(), 1);
    const int64_t before = log_->high_watermark();
    const int64_t target = TargetHighWatermarkLocked();
    if (target <= before) return;
    log_->SetHighWatermark(target);
    const int64_t hw = log_->high_watermark();
    auto end = commit_waiters_.upper_bound(hw);
    for (auto it = commit_waiters_.begin(); it != end; ++it) committed.push_back(std::move(it->second));
    commit_waiters_.erase(commit_waiters_.begin(), end);
  }
  for (CommitWaiter& w : committed) w.done(Status::Ok(), isr_size);
  RunWaiters();
}

void Partition::RunWaiters() {
  std::map<uint64_t, std::function<void()>> ready;
  {
    MutexLock lock(&waiters_mu_);
    ready.swap(waiters_);
  }
  for (auto& [id, fn] : ready) fn();
}

uint64_t Partition::AddWaiter(std::function<void()> fn) {
  MutexLock lock(&waiters_mu_);
  const uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(fn));
  return id;
}

void Partition::RemoveWaiter(uint64_t id) {
  MutexLock lock(&waiters_mu_);
  waiters_.erase(id);
}

// --- Replication -------------------------------------------------------------

void Partition::BecomeLeader(const Leadership& leadership, int64_t now_ms) {
  {
    MutexLock append(&append_mu_);
    MutexLock lock(&replica_mu_);
    leader_epoch_.store(leadership.leader_epoch, std::memory_order_release);
    partition_epoch_ = leadership.partition_epoch;
    leader_id_ = leadership.local_id;
    replica_set_.Reset(leadership.local_id, leadership.replicas, leadership.isr, now_ms);
    has_followers_.store(replica_set_.has_followers(), std::memory_order_release);
    leader_.store(true, std::memory_order_release);
  }
  // A smaller ISR than before may let the high watermark move at once.
  AdvanceHighWatermark();
}

void Partition::BecomeFollower(int32_t leader_id, int32_t leader_epoch, int32_t partition_epoch) {
  std::multimap<int64_t, CommitWaiter> abandoned;
  {
    MutexLock append(&append_mu_);
    MutexLock lock(&replica_mu_);
    leader_epoch_.store(leader_epoch, std::memory_order_release);
    partition_epoch_ = partition_epoch;
    leader_id_ = leader_id;
    leader_.store(false, std::memory_order_release);
    has_followers_.store(false, std::memory_order_release);
    // What this replica may still expose: its old high watermark, until the
    // new leader's first answer says more.
    leader_high_watermark_ = log_->high_watermark();
    abandoned.swap(commit_waiters_);
  }
  for (auto& [offset, w] : abandoned) {
    w.done(Status::NotLeader("leadership of " + tp_.topic + "-" + std::to_string(tp_.partition) +
                             " moved before the write was replicated"),
           0);
  }
  RunWaiters();  // Parked fetches answer NOT_LEADER_OR_FOLLOWER now.
}

int32_t Partition::leader_id() const {
  MutexLock lock(&replica_mu_);
  return leader_id_;
}

int32_t Partition::partition_epoch() const {
  MutexLock lock(&replica_mu_);
  return partition_epoch_;
}

std::vector<int32_t> Partition::isr() const {
  MutexLock lock(&replica_mu_);
  return replica_set_.isr();
}

std::vector<int32_t> Partition::replicas() const {
  MutexLock lock(&replica_mu_);
  return replica_set_.replicas();
}

size_t Partition::isr_size() const {
  MutexLock lock(&replica_mu_);
  return std::max<size_t>(replica_set_.isr().size(), 1);
}

int64_t Partition::MaxFollowerLag() {
  const int64_t end = log_->log_end_offset();
  const int64_t start = log_->log_start_offset();
  MutexLock lock(&replica_mu_);
  int64_t lag = 0;
  for (int32_t id : replica_set_.replicas()) {
    if (id == replica_set_.local_id()) continue;
    const int64_t follower_end = replica_set_.FollowerEndOffset(id);
    lag = std::max(lag, end - (follower_end < 0 ? start : follower_end));
  }
  return lag;
}

Status Partition::OnFollowerFetch(int32_t replica_id, int64_t fetch_offset, int64_t now_ms) {
  {
    MutexLock lock(&replica_mu_);
    if (!is_leader()) return Status::NotLeader("not the leader");
    if (replica_id == replica_set_.local_id() || !replica_set_.IsReplica(replica_id)) {
      return Status::NotFound("broker " + std::to_string(replica_id) + " is not a follower of " +
                              tp_.topic + "-" + std::to_string(tp_.partition));
    }
    replica_set_.RecordFetch(replica_id, fetch_offset, log_->log_end_offset(), now_ms);
  }
  AdvanceHighWatermark();
  return Status::Ok();
}

std::optional<std::vector<int32_t>> Partition::IsrToShrink(int64_t now_ms,
                                                          int64_t max_lag_ms) const {
  MutexLock lock(&replica_mu_);
  if (!is_leader() || !replica_set_.has_followers()) return std::nullopt;
  return replica_set_.IsrWithoutLagging(now_ms, max_lag_ms);
}

std::optional<std::vector<int32_t>> Partition::IsrToExpand(int64_t now_ms, int64_t max_lag_ms) {
  const int32_t epoch = leader_epoch();
  const int64_t epoch_start = log_->EndOffsetForEpoch(epoch - 1).second;
  MutexLock lock(&replica_mu_);
  if (!is_leader() || !replica_set_.has_followers()) return std::nullopt;
  return replica_set_.IsrWithCaughtUp(log_->high_watermark(), epoch_start, now_ms, max_lag_ms);
}

void Partition::ApplyIsr(int32_t leader_epoch, std::vector<int32_t> isr, int32_t partition_epoch,
                         int64_t now_ms) {
  {
    MutexLock lock(&replica_mu_);
    if (!is_leader() || leader_epoch != this->leader_epoch()) return;
    replica_set_.SetIsr(std::move(isr), now_ms);
    partition_epoch_ = partition_epoch;
  }
  AdvanceHighWatermark();
}

uint64_t Partition::WhenCommitted(int64_t offset, CommitCallback done) {
  Status now_status = Status::Ok();
  size_t isr_size = 0;
  {
    MutexLock lock(&replica_mu_);
    isr_size = std::max<size_t>(replica_set_.isr().size(), 1);
    if (!is_leader()) {
      now_status = Status::NotLeader("not the leader");
    } else if (log_->high_watermark() < offset) {
      const uint64_t id = next_commit_waiter_id_++;
      commit_waiters_.emplace(offset, CommitWaiter{id, std::move(done)});
      return id;
    }
  }
  done(now_status, isr_size);
  return 0;
}

bool Partition::CancelCommitWaiter(uint64_t id) {
  MutexLock lock(&replica_mu_);
  for (auto it = commit_waiters_.begin(); it != commit_waiters_.end(); ++it) {
    if (it->second.id == id) {
      commit_waiters_.erase(it);
      return true;
    }
  }
  return false;
}

Status Partition::CheckFollowingLocked(int32_t leader_epoch) const {
  if (is_leader()) return Status::Aborted("this replica leads the partition now");
  if (this->leader_epoch() != leader_epoch) {
    return Status::Aborted("the replica follows leader epoch " +
                           std::to_string(this->leader_epoch()) + ", not " +
                           std::to_string(leader_epoch));
  }
  return Status::Ok();
}

Result<storage::AppendResult> Partition::AppendAsFollower(std::span<const uint8_t> batch,
                                                          int32_t leader_epoch) {
  auto header = model::ParseRecordBatchHeader(batch);
  if (!header.ok()) return header.status();
  MutexLock lock(&append_mu_);
  SLUICE_RETURN_IF_ERROR(CheckFollowingLocked(leader_epoch));
  auto appended = log_->AppendAsFollower(batch);
  if (!appended.ok()) return appended.status();
  // The follower keeps the producers' state too, so that it deduplicates
  // retries the moment it becomes the leader.
  if (header->producer_id >= 0 && !header->is_control()) {
    producers_.Record(*header, header->base_offset, header->max_timestamp);
  }
  return appended;
}

Status Partition::TruncateTo(int64_t offset, int32_t leader_epoch) {
  MutexLock lock(&append_mu_);
  SLUICE_RETURN_IF_ERROR(CheckFollowingLocked(leader_epoch));
  if (offset >= log_->log_end_offset()) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(log_->TruncateTo(offset));
  producers_.TruncateFrom(offset);
  return Status::Ok();
}

Status Partition::TruncateFullyAndStartAt(int64_t offset, int32_t leader_epoch) {
  MutexLock lock(&append_mu_);
  SLUICE_RETURN_IF_ERROR(CheckFollowingLocked(leader_epoch));
  SLUICE_RETURN_IF_ERROR(log_->TruncateFullyAndStartAt(offset));
  producers_.TruncateFrom(std::numeric_limits<int64_t>::min());
  return Status::Ok();
}

void Partition::SetLeaderHighWatermark(int64_t hw) {
  {
    MutexLock lock(&replica_mu_);
    if (is_leader()) return;
    leader_high_watermark_ = std::max(leader_high_watermark_, hw);
  }
  AdvanceHighWatermark();
}

}  // namespace sluice::cluster
