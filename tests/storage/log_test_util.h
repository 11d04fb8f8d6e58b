// Helpers shared by the storage tests: a settable clock, appending test
// batches, and reading back what a ReadResult's FileSlices point at.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "base/output_chain.h"
#include "model/record_batch_header.h"
#include "storage/batch_builder.h"
#include "storage/log.h"

namespace sluice::storage::testing {

class FakeClock {
 public:
  int64_t now() const { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }
  void Set(int64_t ms) { now_ = ms; }
  std::function<int64_t()> fn() {
    return [this] { return now_.load(); };
  }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000};
};

// Log::Open, failing the test (and returning null) if it does not open.
inline std::unique_ptr<Log> OpenLogOrFail(const std::filesystem::path& dir, const LogConfig& config,
                                          LogOptions options) {
  Result<std::unique_ptr<Log>> log = Log::Open(dir, config, std::move(options));
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(*log) : nullptr;
}

inline Result<AppendResult> AppendBatch(Log& log, int records, int64_t ts, size_t value_bytes = 16,
                                        int32_t epoch = 0) {
  std::vector<uint8_t> b = MakeBatch(records, ts, value_bytes);
  return log.Append(b, epoch);
}

// The bytes the slices describe, read from the files the way sendfile would.
inline std::vector<uint8_t> SliceBytes(const ReadResult& r) {
  std::vector<uint8_t> out;
  for (const FileSlice& s : r.slices) {
    size_t at = out.size();
    out.resize(at + s.length);
    Status read = ReadFileSlice(s, std::span<uint8_t>(out.data() + at, s.length));
    EXPECT_TRUE(read.ok()) << read.ToString();
  }
  return out;
}

// Headers of the whole batches in `bytes`; fails the test on a partial one.
inline std::vector<model::RecordBatchHeader> Batches(const std::vector<uint8_t>& bytes) {
  std::vector<model::RecordBatchHeader> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    Result<model::RecordBatchHeader> h = model::ParseRecordBatchHeader(
        std::span<const uint8_t>(bytes.data() + pos, bytes.size() - pos));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) break;
    EXPECT_LE(pos + h->size_bytes(), bytes.size());
    EXPECT_TRUE(model::VerifyBatchCrc(std::span<const uint8_t>(bytes.data() + pos, h->size_bytes())));
    out.push_back(*h);
    pos += h->size_bytes();
  }
  return out;
}

}  // namespace sluice::storage::testing
