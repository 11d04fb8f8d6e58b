// Walks the record batches of a .log file in order, reading through one
// buffer so that a scan costs a pread per 4-64 KiB rather than one per batch.
// Used by reads (headers only), by recovery (whole batches, CRC checked) and
// by index rebuilds.
//
// Not thread-safe; the File must outlive the scanner.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/record_batch_header.h"
#include "storage/file.h"

namespace sluice::storage {

struct ScannedBatch {
  model::RecordBatchHeader header;
  uint64_t position = 0;  // byte position of the batch in the file
  uint64_t size() const { return header.size_bytes(); }
};

class BatchScanner {
 public:
  // Scans batches starting at byte `start`, none extending past `end`.
  BatchScanner(const File& file, uint64_t start, uint64_t end);

  // The next batch, or nullopt at `end`. Corruption when the bytes at the
  // current position are not a plausible v2 header (bad magic, length below
  // the header) or the batch runs past `end` (a torn write); with
  // `verify_crc`, also when the CRC does not match. The CRC is computed in
  // pieces of at most 64 KiB, so a batch of any size (or a corrupt length)
  // never needs a buffer of its size. Batches whose last offset is below
  // `crc_from_offset` skip the CRC even with `verify_crc` (recovery: bytes
  // fsynced before the recovery point was written).
  Result<std::optional<ScannedBatch>> Next(bool verify_crc = false,
                                           int64_t crc_from_offset = INT64_MIN);

  // Where the next batch would start (after the last one returned).
  uint64_t position() const { return pos_; }

 private:
  // Makes [pos, pos + n) available in buf_; returns a view or a short view at EOF.
  Result<std::span<const uint8_t>> Fetch(uint64_t pos, size_t n);
  Status VerifyCrc(const ScannedBatch& batch, const std::string& where);

  const File& file_;
  uint64_t pos_;
  uint64_t end_;
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0;
  size_t buf_len_ = 0;
  size_t readahead_ = 0;  // grows from 4 KiB to 64 KiB as the scan goes on
};

}  // namespace sluice::storage
