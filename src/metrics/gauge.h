// Gauge: a value that goes up and down, and GaugeFamily, its labeled family,
// which can also hold callback series evaluated at scrape time.
//
// Thread-safety: Gauge updates are relaxed atomics on one cache-line-padded
// cell (a gauge is set, so per-thread cells would not add up); use them for
// values that change rarely, e.g. per connection, not per request.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>

#include "metrics/family.h"
#include "metrics/thread_slot.h"

namespace sluice::metrics {

class alignas(kCacheLineSize) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Increment() { Add(1); }
  void Decrement() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class GaugeFamily final : public MetricFamily {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);

  // The gauge for `values`, created at zero on first use. Takes a lock and a
  // map lookup: keep the reference (valid until Remove or registry death).
  Gauge& WithLabels(const LabelValues& values);
  Gauge& Get() { return WithLabels({}); }

  // Drops the series for `values`; no thread may still use its reference.
  void Remove(const LabelValues& values);

  // A series whose value `fn` returns at scrape time, e.g. a partition's log
  // end offset; registered until the handle is destroyed (see CallbackHandle
  // and MetricFamily::Render for what `fn` may do).
  [[nodiscard]] CallbackHandle AddCallback(LabelValues values, std::function<double()> fn) {
    return AddCallbackSeries(std::move(values), std::move(fn));
  }

 private:
  void ListSeriesLocked(std::vector<std::pair<const LabelValues*, const void*>>* out) const override
      REQUIRES(mu_);
  void RenderSeriesLocked(const LabelValues& values, const void* series,
                          std::string* out) const override REQUIRES(mu_);

  std::map<LabelValues, std::unique_ptr<Gauge>> series_ GUARDED_BY(mu_);
};

}  // namespace sluice::metrics
