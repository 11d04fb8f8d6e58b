#include "storage/timestamp_search.h"

#include <functional>
#include <vector>

#include "model/record_batch_view.h"
#include "storage/batch_scanner.h"

namespace sluice::storage {
namespace {

TimestampLookup Found(const model::RecordBatchHeader& h, int64_t offset, int64_t timestamp) {
  return TimestampLookup{offset, timestamp, h.partition_leader_epoch >= 0 ? h.partition_leader_epoch : -1};
}

// Reads `batch` whole into *buf and calls `fn` on each record until it
// returns true; returns whether one did. Corruption if the records do not
// decode (they were validated when appended, so the file is damaged).
Result<bool> AnyRecord(const File& file, const ScannedBatch& batch, std::vector<uint8_t>* buf,
                       const std::function<bool(const model::Record&)>& fn) {
  buf->resize(batch.size());
  SLUICE_RETURN_IF_ERROR(ReadFully(file, batch.position, *buf));
  Result<model::RecordBatchView> view = model::RecordBatchView::Parse(*buf);
  if (!view.ok()) return view.status();
  model::RecordIterator it = view->Records();
  model::Record r;
  while (it.Next(&r)) {
    if (fn(r)) return true;
  }
  if (!it.status().ok()) {
    return Status::Corruption(file.path().string() + " at " + std::to_string(batch.position) +
                              ": " + it.status().message());
  }
  return false;
}

}  // namespace

Result<std::optional<TimestampLookup>> SearchForTimestamp(const File& file, uint64_t start,
                                                          uint64_t end, int64_t target,
                                                          int64_t min_offset) {
  BatchScanner scanner(file, start, end);
  std::vector<uint8_t> buf;
  while (true) {
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (!b.ok()) return b.status();
    if (!b->has_value()) return std::optional<TimestampLookup>();
    const model::RecordBatchHeader& h = (*b)->header;
    if (h.max_timestamp < target || h.last_offset() < min_offset) continue;
    std::optional<TimestampLookup> found;
    Result<bool> hit = AnyRecord(file, **b, &buf, [&](const model::Record& r) {
      if (r.timestamp < target || r.offset < min_offset) return false;
      found = Found(h, r.offset, r.timestamp);
      return true;
    });
    if (!hit.ok()) return hit.status();
    if (*hit) return found;
  }
}

Result<std::optional<TimestampLookup>> FindRecordWithMaxTimestamp(const File& file, uint64_t start,
                                                                  uint64_t end,
                                                                  int64_t max_timestamp) {
  BatchScanner scanner(file, start, end);
  std::vector<uint8_t> buf;
  while (true) {
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (!b.ok()) return b.status();
    if (!b->has_value()) return std::optional<TimestampLookup>();
    const model::RecordBatchHeader& h = (*b)->header;
    if (h.max_timestamp != max_timestamp) continue;
    std::optional<TimestampLookup> found;
    Result<bool> hit = AnyRecord(file, **b, &buf, [&](const model::Record& r) {
      if (r.timestamp != max_timestamp) return false;
      found = Found(h, r.offset, r.timestamp);
      return true;
    });
    if (!hit.ok()) return hit.status();
    if (!*hit) found = Found(h, h.last_offset(), h.max_timestamp);
    return found;
  }
}

}  // namespace sluice::storage
