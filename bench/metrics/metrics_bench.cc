// Hot-path cost of metric updates, from 1 and 2 threads. The baseline is a
// relaxed fetch_add on one shared atomic: what a naive counter costs, and
// what it degrades to when shards contend on its cache line.
#include <atomic>
#include <string>

#include <benchmark/benchmark.h>

#include "metrics/broker_metrics.h"
#include "metrics/registry.h"

namespace sluice::metrics {
namespace {

MetricsRegistry& Registry() {
  static MetricsRegistry registry;
  return registry;
}

void BM_SharedAtomicAdd(benchmark::State& state) {
  static std::atomic<uint64_t> shared{0};
  for (auto _ : state) shared.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharedAtomicAdd)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterIncrement(benchmark::State& state) {
  static Counter& counter =
      Registry().AddCounter("bench_requests_total", "Requests.", {"api"}).WithLabels({"Produce"});
  for (auto _ : state) counter.Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
  static Histogram& histogram =
      Registry()
          .AddHistogram("bench_latency_seconds", "Latency.", {"api"}, LatencyBuckets())
          .WithLabels({"Produce"});
  double v = 0.0001 * (state.thread_index() + 1);  // ~0.1 ms: a typical request.
  for (auto _ : state) histogram.Observe(v);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

// One scrape of the broker families with 60 APIs used and 100 partitions.
void BM_RenderBrokerMetrics(benchmark::State& state) {
  MetricsRegistry registry;
  BrokerMetrics metrics(registry);
  for (int16_t key = 0; key < 60; ++key) {
    metrics.RegisterApi(key, "Api" + std::to_string(key));
    metrics.ForApi(key).requests.Increment();
    metrics.ForApi(key).latency.Observe(0.001);
  }
  std::vector<BrokerMetrics::PartitionMetrics> partitions;
  for (int p = 0; p < 100; ++p) {
    partitions.push_back(metrics.RegisterPartition("topic", p, [] { return 1e6; }, [] { return 1e9; }));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = registry.Render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderBrokerMetrics)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sluice::metrics
