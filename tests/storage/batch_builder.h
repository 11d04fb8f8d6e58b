// Builds valid Kafka v2 record batches for storage tests and benchmarks: N
// uncompressed records with a fixed timestamp and a value of a chosen size.
// Deliberately simple; the full record encoder lives elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::storage::testing {

// A batch with `records` records, all at `timestamp` (so base and max
// timestamp are both `timestamp`), each carrying `value_bytes` bytes. Base
// offset 0 and epoch -1: the log assigns both. CRC correct.
std::vector<uint8_t> MakeBatch(int records, int64_t timestamp, size_t value_bytes = 16);

// A batch of exactly `total_bytes` bytes (>= 70) holding one record.
std::vector<uint8_t> MakeBatchOfSize(size_t total_bytes, int64_t timestamp);

}  // namespace sluice::storage::testing
