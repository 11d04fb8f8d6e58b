// Counter: a monotonically increasing integer, and CounterFamily, its labeled
// family.
//
// Thread-safety: Counter::Increment is a relaxed atomic add on the calling
// thread's own cache-line-padded cell (see thread_slot.h): no lock, no
// allocation. Value() sums the cells and may run concurrently with updates.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "metrics/family.h"
#include "metrics/thread_slot.h"

namespace sluice::metrics {

class Counter {
 public:
  // `slots` cells, rounded up to a power of two.
  explicit Counter(uint32_t slots);
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment(uint64_t n = 1) {
    cells_[ThisThreadSlot() & mask_].value.fetch_add(n, std::memory_order_relaxed);
  }

  uint64_t Value() const;

 private:
  struct alignas(kCacheLineSize) Cell {
    std::atomic<uint64_t> value{0};
  };
  std::unique_ptr<Cell[]> cells_;
  const uint32_t mask_;
};

class CounterFamily final : public MetricFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names,
                uint32_t slots);

  // The counter for `values` (one per label name, in order), created at
  // zero on first use. Takes a lock and a map lookup: call it once and keep
  // the reference, which stays valid until Remove(values) or the registry dies.
  Counter& WithLabels(const LabelValues& values);
  // For a family without labels.
  Counter& Get() { return WithLabels({}); }

  // Drops the series for `values`. The caller guarantees that no thread still
  // uses a reference to it.
  void Remove(const LabelValues& values);

  // A series whose value `fn` computes at scrape time (e.g. a total kept by
  // another component). It must never decrease.
  [[nodiscard]] CallbackHandle AddCallback(LabelValues values, std::function<double()> fn) {
    return AddCallbackSeries(std::move(values), std::move(fn));
  }

 private:
  void ListSeriesLocked(std::vector<std::pair<const LabelValues*, const void*>>* out) const override
      REQUIRES(mu_);
  void RenderSeriesLocked(const LabelValues& values, const void* series,
                          std::string* out) const override REQUIRES(mu_);

  const uint32_t slots_;
  std::map<LabelValues, std::unique_ptr<Counter>> series_ GUARDED_BY(mu_);
};

}  // namespace sluice::metrics
