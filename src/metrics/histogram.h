// Histogram: counts observations into fixed buckets and keeps their sum; and
// HistogramFamily, its labeled family. Bucket bounds are upper bounds
// (Prometheus `le`): an observation v lands in the first bucket with v <= le,
// or in the implicit +Inf bucket.
//
// Thread-safety: Observe is a bucket search plus relaxed atomic updates on the
// calling thread's own cache-line-padded cells (see thread_slot.h): no lock,
// no allocation. Collect() may run concurrently; it sees each cell atomically
// but not all cells at one instant, so _sum may lag _count by a few updates.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "metrics/family.h"
#include "metrics/thread_slot.h"

namespace sluice::metrics {

// `count` bounds start, start*factor, start*factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds start, start+width, ...
std::vector<double> LinearBuckets(double start, double width, int count);
// Request latency in seconds: 0.05 ms doubling up to 13.1 s (19 buckets).
std::vector<double> LatencyBuckets();

class Histogram {
 public:
  // `bounds`: strictly increasing, finite, owned by the caller and outliving
  // the histogram. `slots` is rounded up to a power of two.
  Histogram(std::span<const double> bounds, uint32_t slots);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // NaN observations are dropped.
  void Observe(double value);
  void ObserveDuration(std::chrono::nanoseconds d) { Observe(static_cast<double>(d.count()) * 1e-9); }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // Per bound, then +Inf (== count).
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Collect() const;

  std::span<const double> bounds() const { return bounds_; }

 private:
  // Each slot owns whole cache lines holding: a count per bucket (bounds and
  // +Inf), then the sum as the bits of a double.
  struct alignas(kCacheLineSize) Line {
    std::atomic<uint64_t> word[kCacheLineSize / sizeof(uint64_t)];
  };
  static constexpr size_t kWordsPerLine = kCacheLineSize / sizeof(uint64_t);

  std::atomic<uint64_t>& Word(uint32_t slot, size_t i) const {
    return lines_[slot * lines_per_slot_ + i / kWordsPerLine].word[i % kWordsPerLine];
  }

  const std::span<const double> bounds_;
  const uint32_t mask_;
  const size_t lines_per_slot_;
  std::unique_ptr<Line[]> lines_;
};

class HistogramFamily final : public MetricFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds, uint32_t slots);

  // The histogram for `values`, created empty on first use. Takes a lock and
  // a map lookup: keep the reference (valid until Remove or registry death).
  Histogram& WithLabels(const LabelValues& values);
  Histogram& Get() { return WithLabels({}); }

  // Drops the series for `values`; no thread may still use its reference.
  void Remove(const LabelValues& values);

  const std::vector<double>& bounds() const { return bounds_; }

 private:
  void ListSeriesLocked(std::vector<std::pair<const LabelValues*, const void*>>* out) const override
      REQUIRES(mu_);
  void RenderSeriesLocked(const LabelValues& values, const void* series,
                          std::string* out) const override REQUIRES(mu_);

  const std::vector<double> bounds_;
  const std::vector<std::string> le_;  // Bounds formatted once for rendering.
  const uint32_t slots_;
  std::map<LabelValues, std::unique_ptr<Histogram>> series_ GUARDED_BY(mu_);
};

}  // namespace sluice::metrics
