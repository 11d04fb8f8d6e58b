#include "storage/batch_scanner.h"

#include <algorithm>
#include <string>

#include "base/crc32c.h"

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

Status BatchScanner::VerifyCrc(const ScannedBatch& b, const std::string& where) {
  uint32_t crc = 0;
  uint64_t at = b.position + model::batch_layout::kAttributes;
  const uint64_t end = b.position + b.size();
  while (at < end) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(end - at, kMaxReadAhead));
    Result<std::span<const uint8_t>> piece = Fetch(at, n);
    if (!piece.ok()) return piece.status();
    if (piece->size() < n) return Status::Corruption(where + ": file shorter than expected");
    crc = crc32c::Extend(crc, piece->data(), n);
    at += n;
  }
  if (crc != b.header.crc) return Status::Corruption(where + ": CRC mismatch");
  return Status::Ok();
}

Result<std::optional<ScannedBatch>> BatchScanner::Next(bool verify_crc, int64_t crc_from_offset) {
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
  if (b.size() > end_ - pos_) return Status::Corruption(where + ": torn batch");
  if (h->last_offset_delta < 0) return Status::Corruption(where + ": negative last offset delta");
  if (verify_crc && h->last_offset() >= crc_from_offset) {
    SLUICE_RETURN_IF_ERROR(VerifyCrc(b, where));
  } else if (b.size() > kMaxReadAhead) {
    // Skipping a batch larger than any read-ahead: the next header is never
    // in the buffer, so fetch it with a small read rather than 64 KiB of
    // bytes nobody looks at (a header walk over 1 MiB batches: 16x less).
    readahead_ = 0;
  }
  pos_ += b.size();
  return std::optional<ScannedBatch>(b);
}

}  // namespace sluice::storage
