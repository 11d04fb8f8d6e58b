#include "storage/batch_builder.h"

#include <span>

#include "model/record_batch_header.h"

namespace sluice::storage::testing {
namespace {

void PutVarint(std::vector<uint8_t>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(static_cast<uint8_t>(z | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<uint8_t>(z));
}

std::vector<uint8_t> EncodeRecord(int offset_delta, size_t value_bytes) {
  std::vector<uint8_t> body;
  body.push_back(0);                          // attributes
  PutVarint(body, 0);                         // timestamp delta
  PutVarint(body, offset_delta);              // offset delta
  PutVarint(body, -1);                        // key: null
  PutVarint(body, static_cast<int64_t>(value_bytes));
  for (size_t i = 0; i < value_bytes; ++i) body.push_back(static_cast<uint8_t>('a' + (i + offset_delta) % 26));
  PutVarint(body, 0);                         // headers
  std::vector<uint8_t> rec;
  PutVarint(rec, static_cast<int64_t>(body.size()));
  rec.insert(rec.end(), body.begin(), body.end());
  return rec;
}

std::vector<uint8_t> Finish(std::vector<uint8_t> records, int count, int64_t timestamp) {
  using namespace model::batch_layout;
  std::vector<uint8_t> out(kHeaderSize);
  out.insert(out.end(), records.begin(), records.end());
  model::RecordBatchHeader h;
  h.base_offset = 0;
  h.batch_length = static_cast<int32_t>(out.size() - kLogOverhead);
  h.partition_leader_epoch = -1;
  h.last_offset_delta = count - 1;
  h.base_timestamp = timestamp;
  h.max_timestamp = timestamp;
  h.record_count = count;
  model::WriteRecordBatchHeader(h, out);
  h.crc = model::ComputeBatchCrc(out);
  model::WriteRecordBatchHeader(h, out);
  return out;
}

}  // namespace

std::vector<uint8_t> MakeBatch(int records, int64_t timestamp, size_t value_bytes) {
  std::vector<uint8_t> all;
  for (int i = 0; i < records; ++i) {
    std::vector<uint8_t> r = EncodeRecord(i, value_bytes);
    all.insert(all.end(), r.begin(), r.end());
  }
  return Finish(std::move(all), records, timestamp);
}

std::vector<uint8_t> MakeBatchOfSize(size_t total_bytes, int64_t timestamp) {
  // Header 61 + record overhead; grow the value until the size matches.
  size_t value = total_bytes > 80 ? total_bytes - 80 : 0;
  while (true) {
    std::vector<uint8_t> b = MakeBatch(1, timestamp, value);
    if (b.size() == total_bytes) return b;
    if (b.size() > total_bytes) return MakeBatch(1, timestamp, value - (b.size() - total_bytes));
    value += total_bytes - b.size();
  }
}

}  // namespace sluice::storage::testing
