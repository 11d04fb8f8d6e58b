#include "storage/batch_scanner.h"

#include <algorithm>
#include <string>

namespace sluice::storage {
namespace {
// A lookup usually needs only the few batches after an index entry
// (index.interval.bytes apart), so start small and grow for long scans.
constexpr size_t kFirstReadAhead = 4 * 1024;
constexpr size_t kMaxReadAhead = 64 * 1024;
}  // namespace

BatchScanner::BatchScanner(const File& file, uint64_t start, uint64_t end)
    : file_(file), pos_(start), end_(end) {}

Result<std::span<const uint8_t>> BatchScanner::Fetch(uint64_t pos, size_t n) {
  if (pos >= buf_start_ && pos + n <= buf_start_ + buf_len_) {
    return std::span<const uint8_t>(buf_.data() + (pos - buf_start_), n);
  }
  if (readahead_ == 0) {
    readahead_ = kFirstReadAhead;
  } else {
    readahead_ = std::min(readahead_ * 2, kMaxReadAhead);
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, readahead_), end_ - pos));
  if (buf_.size() < want) buf_.resize(want);
  Result<size_t> got = file_.Read(pos, std::span<uint8_t>(buf_.data(), want));
  if (!got.ok()) return got.status();
  buf_start_ = pos;
  buf_len_ = *got;
  return std::span<const uint8_t>(buf_.data(), std::min(n, buf_len_));
}

Result<std::optional<ScannedBatch>> BatchScanner::Next(bool verify_crc, uint64_t max_batch_bytes) {
  if (pos_ >= end_) return std::optional<ScannedBatch>();
  const std::string where = file_.path().string() + " at " + std::to_string(pos_);
  if (end_ - pos_ < model::batch_layout::kHeaderSize) {
    return Status::Corruption(where + ": torn batch header");
  }
  Result<std::span<const uint8_t>> head = Fetch(pos_, model::batch_layout::kHeaderSize);
  if (!head.ok()) return head.status();
  if (head->size() < model::batch_layout::kHeaderSize) {
    return Status::Corruption(where + ": file shorter than expected");
  }
  Result<model::RecordBatchHeader> h = model::ParseRecordBatchHeader(*head);
  if (!h.ok()) return Status::Corruption(where + ": " + h.status().message());
  ScannedBatch b{*h, pos_};
  if (b.size() > max_batch_bytes) return Status::Corruption(where + ": batch length too large");
  if (b.size() > end_ - pos_) return Status::Corruption(where + ": torn batch");
  if (h->last_offset_delta < 0) return Status::Corruption(where + ": negative last offset delta");
  if (verify_crc) {
    Result<std::span<const uint8_t>> whole = Fetch(pos_, b.size());
    if (!whole.ok()) return whole.status();
    if (whole->size() < b.size()) return Status::Corruption(where + ": file shorter than expected");
    if (!model::VerifyBatchCrc(*whole)) return Status::Corruption(where + ": CRC mismatch");
  }
  pos_ += b.size();
  return std::optional<ScannedBatch>(b);
}

}  // namespace sluice::storage
