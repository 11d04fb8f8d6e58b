// MetricsRegistry: owns metric families and renders them all for a scrape.
//
//   MetricsRegistry registry;
//   Counter& produced = registry.AddCounter("sluice_x_total", "Xs.", {"api"})
//                           .WithLabels({"Produce"});   // once, at setup
//   produced.Increment();                                // hot path
//   std::string text = registry.Render();                // scrape thread
//
// Thread-safety: everything is thread-safe. Families are never removed, so
// references returned by Add* stay valid for the registry's lifetime. Names
// are fixed by the code, so misuse (an invalid name, the same name registered
// with another type, labels or buckets) is a bug: it aborts with a message.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"
#include "base/mutex.h"

namespace sluice::metrics {

class MetricsRegistry {
 public:
  // `slots`: cells per counter/histogram; 0 means DefaultSlotCount(). Rounded
  // up to a power of two.
  explicit MetricsRegistry(uint32_t slots = 0);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registering an existing name with the same type, labels (and buckets)
  // returns the existing family.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds);

  // The whole exposition, families in registration order.
  std::string Render() const;
  void RenderTo(std::string* out) const;

  uint32_t slots() const { return slots_; }

 private:
  // Returns the family named `name` if it matches, null if there is none.
  MetricFamily* FindLocked(const std::string& name, MetricType type,
                           const std::vector<std::string>& label_names) const
      REQUIRES(mu_);
  void CheckNames(const std::string& name, const std::vector<std::string>& label_names,
                  MetricType type) const;
  template <typename F>
  F& Insert(std::unique_ptr<F> family) REQUIRES(mu_);

  const uint32_t slots_;
  mutable Mutex mu_;
  std::vector<std::unique_ptr<MetricFamily>> families_ GUARDED_BY(mu_);
  std::map<std::string, MetricFamily*> by_name_ GUARDED_BY(mu_);
};

}  // namespace sluice::metrics
