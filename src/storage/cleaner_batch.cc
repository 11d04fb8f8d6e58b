#include "storage/cleaner_batch.h"

#include "compression/compression.h"
#include "model/record_batch_header.h"
#include "model/record_batch_view.h"
#include "model/varint.h"

namespace sluice::storage {

namespace layout = model::batch_layout;

Result<FilterOutcome> FilterBatch(std::span<const uint8_t> batch,
                                  const std::function<bool(const model::Record&)>& retain,
                                  std::vector<uint8_t>* out, FilterCounts* counts) {
  Result<model::RecordBatchView> view = model::RecordBatchView::Parse(batch);
  if (!view.ok()) return Status::Corruption(view.status().message());
  model::RecordIterator it = view->Records();
  // Each record is `length varint | body`; walk the boundaries alongside the
  // iterator so kept records are copied byte for byte.
  const std::span<const uint8_t> section = it.records_bytes();
  model::ByteReader bounds(section);
  std::vector<uint8_t> kept_bytes;
  FilterCounts c;
  model::Record r;
  while (it.Next(&r)) {
    const size_t start = bounds.position();
    const int32_t length = bounds.ReadVarint();
    if (!bounds.ok() || length < 0) return Status::Corruption("bad record length");
    bounds.ReadBytes(static_cast<size_t>(length));
    if (!bounds.ok()) return Status::Corruption("record runs past the batch");
    if (retain(r)) {
      ++c.kept;
      if (out != nullptr) {
        kept_bytes.insert(kept_bytes.end(), section.begin() + static_cast<ptrdiff_t>(start),
                          section.begin() + static_cast<ptrdiff_t>(bounds.position()));
      }
    } else {
      ++c.dropped;
    }
  }
  if (!it.status().ok()) return Status::Corruption(it.status().message());
  if (counts != nullptr) *counts = c;
  if (c.dropped == 0) return FilterOutcome::kUnchanged;
  if (c.kept == 0) return FilterOutcome::kEmpty;
  if (out == nullptr) return FilterOutcome::kRewritten;

  model::RecordBatchHeader h = view->header();
  out->assign(layout::kHeaderSize, 0);
  if (h.compression() == model::Compression::kNone) {
    out->insert(out->end(), kept_bytes.begin(), kept_bytes.end());
  } else {
    SLUICE_RETURN_IF_ERROR(compression::CompressInto(h.compression(), kept_bytes, out));
  }
  h.record_count = c.kept;
  h.batch_length = static_cast<int32_t>(out->size() - layout::kLogOverhead);
  h.crc = 0;
  model::WriteRecordBatchHeader(h, *out);
  h.crc = model::ComputeBatchCrc(*out);
  model::WriteRecordBatchHeader(h, *out);
  return FilterOutcome::kRewritten;
}

}  // namespace sluice::storage
