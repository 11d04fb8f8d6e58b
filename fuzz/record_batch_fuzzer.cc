// Feeds arbitrary bytes to the record batch decoder: validation and
// iteration must never crash, hang or over-allocate; a batch that validates
// must rebuild (RecordBatchBuilder) into a valid batch with the same records.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "base/endian.h"

#include "model/batch_sequence.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_validator.h"
#include "model/record_batch_view.h"

namespace {

using namespace sluice;
using namespace sluice::model;

constexpr size_t kMaxOutput = size_t{4} << 20;

void Check(bool condition) {
  if (!condition) std::abort();
}

bool SameBytes(const std::optional<Bytes>& a, const std::optional<Bytes>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::equal(a->begin(), a->end(), b->begin(), b->end());
}

bool SameRecord(const Record& a, const Record& b) {
  if (a.offset != b.offset || a.offset_delta != b.offset_delta || a.timestamp != b.timestamp ||
      !SameBytes(a.key, b.key) || !SameBytes(a.value, b.value) ||
      a.headers.size() != b.headers.size()) {
    return false;
  }
  for (size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].key != b.headers[i].key || !SameBytes(a.headers[i].value, b.headers[i].value)) {
      return false;
    }
  }
  return true;
}

void FuzzOne(std::span<const uint8_t> bytes) {
  const compression::DecompressOptions limits{.max_output_bytes = kMaxOutput};
  const Status valid = ValidateRecordBatch(bytes, {.decompress = limits});

  auto view = RecordBatchView::Parse(bytes);
  if (!view.ok()) {
    Check(!valid.ok());
    return;
  }
  std::vector<Record> records;
  RecordIterator it = view->Records(limits);
  Record r;
  while (it.Next(&r)) records.push_back(r);
  if (!valid.ok()) return;
  Check(it.status().ok());
  Check(records.size() == static_cast<size_t>(view->header().record_count));

  const RecordBatchHeader& h = view->header();
  RecordBatchOptions options{.compression = h.compression(),
                             .timestamp_type = h.timestamp_type(),
                             .log_append_time = h.max_timestamp,
                             .transactional = h.is_transactional(),
                             .control = h.is_control(),
                             .base_offset = h.base_offset,
                             .partition_leader_epoch = h.partition_leader_epoch,
                             .producer_id = h.producer_id,
                             .producer_epoch = h.producer_epoch,
                             .base_sequence = h.base_sequence};
  RecordBatchBuilder builder(options);
  for (const Record& rec : records) builder.Add(rec.timestamp, rec.key, rec.value, rec.headers);
  auto rebuilt = builder.Build();
  Check(rebuilt.ok());
  Check(ValidateRecordBatch(*rebuilt).ok());
  auto again = RecordBatchView::Parse(*rebuilt);
  Check(again.ok());
  const RecordBatchHeader& g = again->header();
  Check(g.record_count == h.record_count && g.last_offset_delta == h.last_offset_delta);
  Check((g.attributes & 0x3f) == (h.attributes & 0x3f));
  Check(g.producer_id == h.producer_id && g.producer_epoch == h.producer_epoch &&
        g.base_sequence == h.base_sequence && g.base_offset == h.base_offset);
  RecordIterator it2 = again->Records();
  size_t i = 0;
  while (it2.Next(&r)) {
    Check(i < records.size() && SameRecord(r, records[i]));
    ++i;
  }
  Check(it2.status().ok() && i == records.size());
}

// The input as a run of batches: framing must account for every byte.
void FuzzSequence(std::span<const uint8_t> bytes) {
  BatchSequence seq(bytes, /*allow_partial_tail=*/true);
  std::span<const uint8_t> batch;
  size_t covered = 0;
  while (seq.Next(&batch)) covered += batch.size();
  Check(covered == seq.position());
  if (seq.status().ok()) Check(seq.position() + seq.partial_tail_bytes() == bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne({data, size});
  FuzzSequence({data, size});
  // Random bytes almost never carry a correct CRC, which would stop every
  // input at the first check; a copy with the CRC fixed reaches the codecs
  // and the record decoder.
  if (size >= batch_layout::kHeaderSize) {
    std::vector<uint8_t> fixed(data, data + size);
    const size_t whole = std::min(size, batch_layout::kLogOverhead +
                                            static_cast<size_t>(static_cast<uint32_t>(
                                                LoadBigEndian<int32_t>(data + batch_layout::kBatchLength))));
    if (whole >= batch_layout::kHeaderSize) {
      StoreBigEndian(fixed.data() + batch_layout::kCrc,
                     ComputeBatchCrc(std::span<const uint8_t>(fixed).first(whole)));
      FuzzOne(fixed);
    }
  }
  return 0;
}
