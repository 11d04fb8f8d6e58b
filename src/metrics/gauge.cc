#include "metrics/gauge.h"

#include "metrics/exposition.h"
#include "base/mutex.h"

namespace sluice::metrics {

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : MetricFamily(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names)) {
  if (this->label_names().empty()) WithLabels({});  // Shows up as 0 from the start.
}

Gauge& GaugeFamily::WithLabels(const LabelValues& values) {
  CheckLabelCount(values);
  MutexLock lock(&mu_);
  auto& slot = series_[values];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

void GaugeFamily::Remove(const LabelValues& values) {
  std::unique_ptr<Gauge> doomed;
  MutexLock lock(&mu_);
  auto it = series_.find(values);
  if (it == series_.end()) return;
  doomed = std::move(it->second);
  series_.erase(it);
}

void GaugeFamily::ListSeriesLocked(
    std::vector<std::pair<const LabelValues*, const void*>>* out) const {
  for (const auto& [values, gauge] : series_) out->emplace_back(&values, gauge.get());
}

void GaugeFamily::RenderSeriesLocked(const LabelValues& values, const void* series,
                                     std::string* out) const {
  out->append(name());
  AppendLabels(out, label_names(), values);
  out->push_back(' ');
  AppendValue(out, static_cast<const Gauge*>(series)->Value());
  out->push_back('\n');
}

}  // namespace sluice::metrics
