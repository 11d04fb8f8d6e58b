// Read access to one v2 record batch without copying it.
//
//   auto view = RecordBatchView::Parse(bytes);          // header only
//   RecordIterator it = view->Records();                 // decompresses once
//   Record r;
//   while (it.Next(&r)) { ... r.key, r.value views ... }
//   if (!it.status().ok()) { ... corrupt ... }
//
// Iteration checks structure (every length against the bytes left, record
// count against the payload before anything is sized from it, no bytes left
// over); ValidateRecordBatch (record_batch_validator.h) adds the CRC and the
// Kafka broker's consistency rules on top.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "compression/compression.h"
#include "model/record.h"
#include "model/record_batch_header.h"
#include "model/varint.h"

namespace sluice::model {

class RecordIterator;

class RecordBatchView {
 public:
  // Parses the header at the start of `bytes`, which must hold the whole
  // batch (bytes after it are ignored: see bytes()). Magic 0/1 give
  // NotSupported; a batch longer than `bytes` gives Corruption.
  static Result<RecordBatchView> Parse(std::span<const uint8_t> bytes);

  const RecordBatchHeader& header() const { return header_; }
  // Exactly this batch: header().size_bytes() bytes.
  std::span<const uint8_t> bytes() const { return bytes_; }
  // The records section as stored, compressed or not.
  std::span<const uint8_t> payload() const { return bytes_.subspan(batch_layout::kHeaderSize); }
  Compression compression() const { return header_.compression(); }

  // Records in order. Records (and their views) stay valid while both the
  // iterator and the batch bytes live.
  RecordIterator Records(const compression::DecompressOptions& options = {}) const;

 private:
  RecordBatchView(RecordBatchHeader header, std::span<const uint8_t> bytes)
      : header_(header), bytes_(bytes) {}

  RecordBatchHeader header_;
  std::span<const uint8_t> bytes_;
};

class RecordIterator {
 public:
  // Moves keep views valid: the decompressed buffer's heap block moves along.
  RecordIterator(RecordIterator&&) = default;
  RecordIterator& operator=(RecordIterator&&) = default;

  // Fills *record with the next record and returns true; returns false at
  // the end or on the first error (then status() says what is wrong).
  bool Next(Record* record);
  const Status& status() const { return status_; }
  // Records returned so far.
  int32_t index() const { return index_; }
  // The uncompressed records section being iterated.
  std::span<const uint8_t> records_bytes() const { return records_; }

 private:
  friend class RecordBatchView;
  RecordIterator(const RecordBatchHeader& header, std::span<const uint8_t> payload,
                 const compression::DecompressOptions& options);
  bool Fail(Status status);

  RecordBatchHeader header_;
  std::vector<uint8_t> decompressed_;  // Empty for uncompressed batches.
  std::span<const uint8_t> records_;
  size_t pos_ = 0;
  int32_t index_ = 0;
  bool done_ = false;
  Status status_;
};

}  // namespace sluice::model
