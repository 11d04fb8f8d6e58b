#include "metrics/counter.h"

#include <bit>

#include "metrics/exposition.h"
#include "base/mutex.h"

namespace sluice::metrics {

Counter::Counter(uint32_t slots)
    : cells_(new Cell[std::bit_ceil(slots)]), mask_(std::bit_ceil(slots) - 1) {}

uint64_t Counter::Value() const {
  uint64_t sum = 0;
  for (uint32_t i = 0; i <= mask_; ++i) sum += cells_[i].value.load(std::memory_order_relaxed);
  return sum;
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names, uint32_t slots)
    : MetricFamily(std::move(name), std::move(help), MetricType::kCounter, std::move(label_names)),
      slots_(slots) {
  if (this->label_names().empty()) WithLabels({});  // Shows up as 0 before the first update.
}

Counter& CounterFamily::WithLabels(const LabelValues& values) {
  CheckLabelCount(values);
  MutexLock lock(&mu_);
  auto& slot = series_[values];
  if (!slot) slot = std::make_unique<Counter>(slots_);
  return *slot;
}

void CounterFamily::Remove(const LabelValues& values) {
  std::unique_ptr<Counter> doomed;
  MutexLock lock(&mu_);
  auto it = series_.find(values);
  if (it == series_.end()) return;
  doomed = std::move(it->second);
  series_.erase(it);
}

void CounterFamily::ListSeriesLocked(
    std::vector<std::pair<const LabelValues*, const void*>>* out) const {
  for (const auto& [values, counter] : series_) out->emplace_back(&values, counter.get());
}

void CounterFamily::RenderSeriesLocked(const LabelValues& values, const void* series,
                                       std::string* out) const {
  out->append(name());
  AppendLabels(out, label_names(), values);
  out->push_back(' ');
  AppendValue(out, static_cast<const Counter*>(series)->Value());
  out->push_back('\n');
}

}  // namespace sluice::metrics
