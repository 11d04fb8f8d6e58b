#include "cluster/partition.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <vector>

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

  std::lock_guard lock(append_mu_);
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

namespace {

// Walks the batch headers of one file slice through a buffer: one pread per
// 64 KiB of small batches instead of one per header (a start-up over a log
// of one-message batches made ~1 M preads per 160 MB), and a 4 KiB read for
// the header after a batch larger than the buffer.
Status ForEachHeader(const FileSlice& slice,
                     const std::function<void(const model::RecordBatchHeader&)>& fn) {
  constexpr size_t kBuffer = 64 * 1024;
  constexpr size_t kSmallRead = 4 * 1024;
  constexpr size_t kHeader = model::batch_layout::kHeaderSize;
  std::vector<uint8_t> buf(kBuffer);
  uint64_t buf_start = 0;  // slice-relative position of buf[0]
  size_t buf_len = 0;
  size_t next_read = kBuffer;
  uint64_t pos = 0;
  while (pos + kHeader <= slice.length) {
    if (pos < buf_start || pos + kHeader > buf_start + buf_len) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(next_read, slice.length - pos));
      ssize_t n = ::pread(slice.fd, buf.data(), want, static_cast<off_t>(slice.offset + pos));
      if (n < static_cast<ssize_t>(kHeader)) return Status::IOError("reading batch headers");
      buf_start = pos;
      buf_len = static_cast<size_t>(n);
    }
    auto h = model::ParseRecordBatchHeader(
        std::span<const uint8_t>(buf.data() + (pos - buf_start), kHeader));
    if (!h.ok()) return h.status();
    fn(*h);
    next_read = h->size_bytes() > kBuffer ? kSmallRead : kBuffer;
    pos += h->size_bytes();
  }
  return Status::Ok();
}

}  // namespace

Status Partition::RebuildProducerState(uint64_t max_bytes) {
  const int64_t end = log_->log_end_offset();
  int64_t offset = log_->log_start_offset();
  // Start at the segment that holds the last `max_bytes`, approximately:
  // idempotence only needs each producer's last few batches.
  auto bases = log_->segment_bases();
  if (log_->size_bytes() > max_bytes && bases.size() > 1) {
    offset = std::max(offset, bases[bases.size() - 2]);
  }
  std::lock_guard lock(append_mu_);
  while (offset < end) {
    auto read = log_->Read(offset, 1 << 20);
    if (!read.ok()) return read.status();
    if (read->slices.empty()) break;
    for (const FileSlice& slice : read->slices) {
      SLUICE_RETURN_IF_ERROR(ForEachHeader(slice, [this](const model::RecordBatchHeader& h) {
        if (h.producer_id >= 0 && !h.is_control()) producers_.Record(h, h.base_offset, h.max_timestamp);
      }));
    }
    if (read->next_offset <= offset) break;
    offset = read->next_offset;
  }
  return Status::Ok();
}

void Partition::OnFlushed() {
  const int64_t before = log_->high_watermark();
  log_->SetHighWatermark(log_->flushed_offset());
  if (log_->high_watermark() == before) return;
  std::map<uint64_t, std::function<void()>> ready;
  {
    std::lock_guard lock(waiters_mu_);
    ready.swap(waiters_);
  }
  for (auto& [id, fn] : ready) fn();
}

uint64_t Partition::AddWaiter(std::function<void()> fn) {
  std::lock_guard lock(waiters_mu_);
  const uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(fn));
  return id;
}

void Partition::RemoveWaiter(uint64_t id) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(id);
}

}  // namespace sluice::cluster
