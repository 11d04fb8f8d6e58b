// Cost of checking and reading a produced batch, against memcpy of the same
// bytes (the floor for touching them once).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_validator.h"
#include "model/record_batch_view.h"

namespace sluice::model {
namespace {

// ~64 KiB of records: 100-byte values of loosely repetitive text (it
// compresses about as well as typical JSON-ish payloads), 16-byte keys.
std::vector<uint8_t> MakeBatch(Compression codec) {
  std::mt19937 rng(42);
  const std::string words[] = {"order", "user", "id", "price", "qty", "ts", "status", "ok"};
  RecordBatchBuilder b({.compression = codec});
  int i = 0;
  while (b.records_size() < (64 << 10) - 128) {
    std::string key = "key-" + std::to_string(100000000 + i);
    std::string value;
    while (value.size() < 100) value += words[rng() % 8] + ":" + std::to_string(rng() % 1000) + ",";
    value.resize(100);
    b.Add(1700000000000 + i, AsBytes(key), AsBytes(value));
    ++i;
  }
  return std::move(b.Build()).value();
}

size_t UncompressedSize(const std::vector<uint8_t>& batch) {
  auto it = RecordBatchView::Parse(batch)->Records();
  return it.records_bytes().size() + batch_layout::kHeaderSize;
}

void BM_Memcpy(benchmark::State& state, Compression codec) {
  const std::vector<uint8_t> batch = MakeBatch(codec);
  std::vector<uint8_t> dst(batch.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), batch.data(), batch.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
}

// The checksum alone, over the whole batch (validation's largest part).
void BM_Crc32c(benchmark::State& state, uint32_t (*extend)(uint32_t, const uint8_t*, size_t)) {
  if (extend == &crc32c::ExtendHardware && !crc32c::HardwareAvailable()) {
    state.SkipWithError("CPU has no SSE4.2");
    return;
  }
  const std::vector<uint8_t> batch = MakeBatch(Compression::kNone);
  for (auto _ : state) benchmark::DoNotOptimize(extend(0, batch.data(), batch.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}

void BM_Validate(benchmark::State& state, Compression codec) {
  const std::vector<uint8_t> batch = MakeBatch(codec);
  for (auto _ : state) {
    Status s = ValidateRecordBatch(batch);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.counters["uncompressed_bytes"] = static_cast<double>(UncompressedSize(batch));
}

void BM_Iterate(benchmark::State& state, Compression codec) {
  const std::vector<uint8_t> batch = MakeBatch(codec);
  auto view = RecordBatchView::Parse(batch);
  size_t n = 0;
  for (auto _ : state) {
    RecordIterator it = view->Records();
    Record r;
    size_t bytes = 0;
    while (it.Next(&r)) bytes += r.value->size();
    benchmark::DoNotOptimize(bytes);
    n = static_cast<size_t>(it.index());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.counters["records"] = static_cast<double>(n);
}

// The codec alone, for the breakdown of the compressed figures.
void BM_Decompress(benchmark::State& state, Compression codec) {
  const std::vector<uint8_t> batch = MakeBatch(codec);
  auto view = RecordBatchView::Parse(batch);
  for (auto _ : state) {
    auto out = compression::Decompress(codec, view->payload());
    benchmark::DoNotOptimize(out.value().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}

void BM_ValidateAndIterate(benchmark::State& state, Compression codec) {
  const std::vector<uint8_t> batch = MakeBatch(codec);
  for (auto _ : state) {
    Status s = ValidateRecordBatch(batch);
    auto view = RecordBatchView::Parse(batch);
    RecordIterator it = view->Records();
    Record r;
    size_t bytes = 0;
    while (it.Next(&r)) bytes += r.value->size();
    benchmark::DoNotOptimize(bytes);
    if (!s.ok() || !it.status().ok()) state.SkipWithError("invalid batch");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}

BENCHMARK_CAPTURE(BM_Memcpy, none, Compression::kNone);
BENCHMARK_CAPTURE(BM_Crc32c, hardware, &crc32c::ExtendHardware);
BENCHMARK_CAPTURE(BM_Crc32c, portable, &crc32c::ExtendPortable);
BENCHMARK_CAPTURE(BM_Validate, none, Compression::kNone);
BENCHMARK_CAPTURE(BM_Iterate, none, Compression::kNone);
BENCHMARK_CAPTURE(BM_ValidateAndIterate, none, Compression::kNone);
BENCHMARK_CAPTURE(BM_Memcpy, lz4, Compression::kLz4);
BENCHMARK_CAPTURE(BM_Validate, lz4, Compression::kLz4);
BENCHMARK_CAPTURE(BM_Iterate, lz4, Compression::kLz4);
BENCHMARK_CAPTURE(BM_ValidateAndIterate, lz4, Compression::kLz4);
BENCHMARK_CAPTURE(BM_Decompress, lz4, Compression::kLz4);

}  // namespace
}  // namespace sluice::model
