#include "cluster/partition.h"

#include <algorithm>
#include <functional>
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
  AppendOutcome out;
  out.log_append_time_ms = log_append_time_ms;
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
  auto appended = log_->Append(batch, leader_epoch_);
  if (!appended.ok()) return appended.status();
  out.base_offset = appended->base_offset;
  out.last_offset = appended->last_offset;
  if (idempotent) producers_.Record(*header, out.base_offset, header->max_timestamp);
  return out;
}

Partition::EpochCheck Partition::CheckLeaderEpoch(int32_t current_leader_epoch) const {
  if (current_leader_epoch < 0 || current_leader_epoch == leader_epoch_) return EpochCheck::kOk;
  return current_leader_epoch > leader_epoch_ ? EpochCheck::kUnknown : EpochCheck::kFenced;
}

Result<int64_t> Partition::DeleteRecordsBefore(int64_t offset) {
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

void Partition::OnFlushed() {
  const int64_t before = log_->high_watermark();
  log_->SetHighWatermark(log_->flushed_offset());
  if (log_->high_watermark() == before) return;
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

}  // namespace sluice::cluster
