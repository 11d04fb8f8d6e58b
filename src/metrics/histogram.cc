#include "metrics/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "metrics/exposition.h"
#include "base/mutex.h"

namespace sluice::metrics {

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) bounds.push_back(v);
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i) bounds.push_back(start + width * i);
  return bounds;
}

std::vector<double> LatencyBuckets() { return ExponentialBuckets(0.00005, 2, 19); }

Histogram::Histogram(std::span<const double> bounds, uint32_t slots)
    : bounds_(bounds),
      mask_(std::bit_ceil(slots) - 1),
      lines_per_slot_((bounds.size() + 2 + kWordsPerLine - 1) / kWordsPerLine),
      lines_(new Line[(mask_ + 1) * lines_per_slot_]) {
  for (size_t i = 0; i < (mask_ + 1) * lines_per_slot_; ++i) {
    for (auto& w : lines_[i].word) w.store(0, std::memory_order_relaxed);
  }
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  uint32_t slot = ThisThreadSlot() & mask_;
  Word(slot, bucket).fetch_add(1, std::memory_order_relaxed);
  // The sum is a double: add by compare-and-swap on its bits. The slot is
  // normally this thread's alone, so the first attempt succeeds.
  std::atomic<uint64_t>& sum = Word(slot, bounds_.size() + 1);
  uint64_t old_bits = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(
      old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + value),
      std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot s;
  s.cumulative.assign(bounds_.size() + 1, 0);
  for (uint32_t slot = 0; slot <= mask_; ++slot) {
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      s.cumulative[i] += Word(slot, i).load(std::memory_order_relaxed);
    }
    s.sum += std::bit_cast<double>(Word(slot, bounds_.size() + 1).load(std::memory_order_relaxed));
  }
  for (size_t i = 1; i < s.cumulative.size(); ++i) s.cumulative[i] += s.cumulative[i - 1];
  s.count = s.cumulative.back();
  return s;
}

namespace {
std::vector<std::string> FormatBounds(const std::vector<double>& bounds) {
  std::vector<std::string> le;
  for (double b : bounds) {
    std::string s;
    AppendValue(&s, b);
    le.push_back(std::move(s));
  }
  le.push_back("+Inf");
  return le;
}
}  // namespace

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds,
                                 uint32_t slots)
    : MetricFamily(std::move(name), std::move(help), MetricType::kHistogram,
                   std::move(label_names)),
      bounds_(std::move(bounds)),
      le_(FormatBounds(bounds_)),
      slots_(slots) {
  if (this->label_names().empty()) WithLabels({});
}

Histogram& HistogramFamily::WithLabels(const LabelValues& values) {
  CheckLabelCount(values);
  MutexLock lock(&mu_);
  auto& slot = series_[values];
  if (!slot) slot = std::make_unique<Histogram>(bounds_, slots_);
  return *slot;
}

void HistogramFamily::Remove(const LabelValues& values) {
  std::unique_ptr<Histogram> doomed;
  MutexLock lock(&mu_);
  auto it = series_.find(values);
  if (it == series_.end()) return;
  doomed = std::move(it->second);
  series_.erase(it);
}

void HistogramFamily::ListSeriesLocked(
    std::vector<std::pair<const LabelValues*, const void*>>* out) const {
  for (const auto& [values, histogram] : series_) out->emplace_back(&values, histogram.get());
}

void HistogramFamily::RenderSeriesLocked(const LabelValues& values, const void* series,
                                         std::string* out) const {
  Histogram::Snapshot s = static_cast<const Histogram*>(series)->Collect();
  for (size_t i = 0; i < s.cumulative.size(); ++i) {
    out->append(name()).append("_bucket");
    AppendLabels(out, label_names(), values, "le", le_[i]);
    out->push_back(' ');
    AppendValue(out, s.cumulative[i]);
    out->push_back('\n');
  }
  out->append(name()).append("_sum");
  AppendLabels(out, label_names(), values);
  out->push_back(' ');
  AppendValue(out, s.sum);
  out->push_back('\n');
  out->append(name()).append("_count");
  AppendLabels(out, label_names(), values);
  out->push_back(' ');
  AppendValue(out, s.count);
  out->push_back('\n');
}

}  // namespace sluice::metrics
