#include "metrics/registry.h"

#include <bit>
#include <cmath>

#include "metrics/exposition.h"

namespace sluice::metrics {

MetricsRegistry::MetricsRegistry(uint32_t slots)
    : slots_(std::bit_ceil(slots == 0 ? DefaultSlotCount() : slots)) {}

void MetricsRegistry::CheckNames(const std::string& name,
                                 const std::vector<std::string>& label_names,
                                 MetricType type) const {
  if (!IsValidMetricName(name)) internal::Die("invalid metric name: " + name);
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!IsValidLabelName(label)) internal::Die(name + ": invalid label name: " + label);
    if (type == MetricType::kHistogram && label == "le") {
      internal::Die(name + ": a histogram cannot have an 'le' label");
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[j] == label) internal::Die(name + ": duplicate label name: " + label);
    }
  }
}

MetricFamily* MetricsRegistry::FindLocked(const std::string& name, MetricType type,
                                          const std::vector<std::string>& label_names) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  if (it->second->type() != type || it->second->label_names() != label_names) {
    internal::Die(name + ": registered twice with different type or labels");
  }
  return it->second;
}

template <typename F>
F& MetricsRegistry::Insert(std::unique_ptr<F> family) {
  F& ref = *family;
  by_name_.emplace(ref.name(), &ref);
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  CheckNames(name, label_names, MetricType::kCounter);
  MutexLock lock(&mu_);
  if (MetricFamily* f = FindLocked(name, MetricType::kCounter, label_names)) {
    return static_cast<CounterFamily&>(*f);
  }
  return Insert(std::make_unique<CounterFamily>(std::move(name), std::move(help),
                                                std::move(label_names), slots_));
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<std::string> label_names) {
  CheckNames(name, label_names, MetricType::kGauge);
  MutexLock lock(&mu_);
  if (MetricFamily* f = FindLocked(name, MetricType::kGauge, label_names)) {
    return static_cast<GaugeFamily&>(*f);
  }
  return Insert(
      std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names)));
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  CheckNames(name, label_names, MetricType::kHistogram);
  if (bounds.empty()) internal::Die(name + ": a histogram needs at least one bucket");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      internal::Die(name + ": bucket bounds must be finite and strictly increasing");
    }
  }
  MutexLock lock(&mu_);
  if (MetricFamily* f = FindLocked(name, MetricType::kHistogram, label_names)) {
    auto& existing = static_cast<HistogramFamily&>(*f);
    if (existing.bounds() != bounds) internal::Die(name + ": registered twice with other buckets");
    return existing;
  }
  return Insert(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                                  std::move(label_names), std::move(bounds),
                                                  slots_));
}

void MetricsRegistry::RenderTo(std::string* out) const {
  std::vector<const MetricFamily*> families;
  {
    MutexLock lock(&mu_);
    for (const auto& f : families_) families.push_back(f.get());
  }
  // Families are never removed, so rendering needs no registry lock and a
  // slow callback does not block registration elsewhere.
  for (const MetricFamily* f : families) f->Render(out);
}

std::string MetricsRegistry::Render() const {
  std::string out;
  RenderTo(&out);
  return out;
}

}  // namespace sluice::metrics
