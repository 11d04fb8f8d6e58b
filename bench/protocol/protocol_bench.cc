// Cost of the protocol framing around record data, against memcpy of the
// same bytes in the same run (the floor for touching them once). Record data
// is a view on decode, so decoding a Produce request should cost a small
// fraction of copying it; a Fetch response with file-slice records does not
// touch the data at all.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "protocol/generated/fetch.h"
#include "protocol/generated/produce.h"
#include "protocol/header.h"

namespace sluice::protocol {
namespace {

constexpr int16_t kProduceVersion = 9;
constexpr int16_t kFetchVersion = 12;

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// A Produce request (header + body) carrying one 64 KiB batch.
std::vector<uint8_t> ProduceRequestBytes() {
  static const std::vector<uint8_t> batch = RandomBytes(64 << 10, 1);
  ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 30000;
  req.topic_data.resize(1);
  req.topic_data[0].name = "orders";
  req.topic_data[0].partition_data.resize(1);
  req.topic_data[0].partition_data[0].index = 3;
  req.topic_data[0].partition_data[0].records = Records::View(batch);
  RequestHeader h;
  h.request_api_key = ProduceRequest::kApiKey;
  h.request_api_version = kProduceVersion;
  h.correlation_id = 7;
  h.client_id = "bench-producer";
  return EncodeRequest(h, req);
}

// A Fetch response with 100 partitions of `per_partition` bytes each.
FetchResponse FetchResponseWith(size_t per_partition, bool file_slices) {
  static const std::vector<uint8_t> data = RandomBytes(100 * (16 << 10), 2);
  FetchResponse resp;
  resp.responses.resize(4);
  int n = 0;
  for (auto& topic : resp.responses) {
    topic.topic = "topic-" + std::to_string(n);
    topic.partitions.resize(25);
    for (auto& p : topic.partitions) {
      p.partition_index = n;
      p.high_watermark = 1000000 + n;
      p.last_stable_offset = p.high_watermark;
      p.log_start_offset = 0;
      p.aborted_transactions.reset();
      p.records = file_slices ? Records::File(FileSlice{nullptr, 9, uint64_t(n) * per_partition,
                                                        per_partition})
                              : Records::View(std::span<const uint8_t>(data).subspan(
                                    size_t(n) * per_partition, per_partition));
      ++n;
    }
  }
  return resp;
}

void Memcpy(benchmark::State& state, size_t n) {
  const std::vector<uint8_t> src = RandomBytes(n, 3);
  std::vector<uint8_t> dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

void BM_ProduceMemcpy(benchmark::State& state) { Memcpy(state, ProduceRequestBytes().size()); }

// As the broker decodes a Produce request: the header into the new request's
// context (RequestRouter), the body into the request object the shard thread
// reuses (DispatchReused in api/handler_table.cc), so nothing is allocated.
void BM_ProduceDecode(benchmark::State& state) {
  const std::vector<uint8_t> bytes = ProduceRequestBytes();
  ProduceRequest req;
  for (auto _ : state) {
    Reader in(bytes);
    RequestHeader header;
    if (!DecodeRequestHeader(in, &header).ok() ||
        !req.Decode(in, header.request_api_version).ok()) {
      state.SkipWithError("decode");
    }
    benchmark::DoNotOptimize(req.topic_data[0].partition_data[0].records.bytes().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

// The same into a new request object each time (as every other API's body
// is decoded): its two vectors are allocated and freed per request.
void BM_ProduceDecodeNewRequest(benchmark::State& state) {
  const std::vector<uint8_t> bytes = ProduceRequestBytes();
  for (auto _ : state) {
    Reader in(bytes);
    RequestHeader header;
    ProduceRequest req;
    if (!DecodeRequestHeader(in, &header).ok() ||
        !req.Decode(in, header.request_api_version).ok()) {
      state.SkipWithError("decode");
    }
    benchmark::DoNotOptimize(req.topic_data[0].partition_data[0].records.bytes().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void BM_ProduceEncode(benchmark::State& state) {
  const std::vector<uint8_t> bytes = ProduceRequestBytes();
  Reader in(bytes);
  Result<RequestHeader> h = DecodeRequestHeader(in);
  ProduceRequest req;
  if (!h.ok() || !req.Decode(in, kProduceVersion).ok()) state.SkipWithError("decode");
  for (auto _ : state) {
    // Encoding copies the in-memory batch into the output buffer once.
    Writer out;
    req.Encode(out, kProduceVersion);
    benchmark::DoNotOptimize(out.buffer().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void BM_FetchMemcpy(benchmark::State& state) {
  Writer w;
  FetchResponseWith(16 << 10, false).Encode(w, kFetchVersion);
  Memcpy(state, w.size());
}

void BM_FetchDecode(benchmark::State& state) {
  Writer w;
  FetchResponseWith(16 << 10, false).Encode(w, kFetchVersion);
  const std::vector<uint8_t> bytes = w.Take();
  FetchResponse resp;
  for (auto _ : state) {
    Reader in(bytes);
    if (!resp.Decode(in, kFetchVersion).ok()) state.SkipWithError("decode");
    benchmark::DoNotOptimize(resp.responses.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

// In-memory records: the encoder copies them into the frame.
void BM_FetchEncodeInMemory(benchmark::State& state) {
  const FetchResponse resp = FetchResponseWith(16 << 10, false);
  size_t size = 0;
  for (auto _ : state) {
    OutputChain chain = EncodeResponseFrame(1, kFetchVersion, resp);
    size = chain.size();
    benchmark::DoNotOptimize(chain.pieces().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

// File-slice records: only the framing is written; the data goes by sendfile.
void BM_FetchEncodeFileSlices(benchmark::State& state) {
  const FetchResponse resp = FetchResponseWith(16 << 10, true);
  size_t size = 0;
  for (auto _ : state) {
    OutputChain chain = EncodeResponseFrame(1, kFetchVersion, resp);
    size = chain.size();
    benchmark::DoNotOptimize(chain.pieces().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

BENCHMARK(BM_ProduceMemcpy);
BENCHMARK(BM_ProduceDecode);
BENCHMARK(BM_ProduceDecodeNewRequest);
BENCHMARK(BM_ProduceEncode);
BENCHMARK(BM_FetchMemcpy);
BENCHMARK(BM_FetchDecode);
BENCHMARK(BM_FetchEncodeInMemory);
BENCHMARK(BM_FetchEncodeFileSlices);

}  // namespace
}  // namespace sluice::protocol
