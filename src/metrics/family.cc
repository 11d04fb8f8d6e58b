#include "metrics/family.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "metrics/exposition.h"

namespace sluice::metrics {

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

namespace internal {
void Die(std::string_view message) {
  std::fprintf(stderr, "sluice metrics: %.*s\n", static_cast<int>(message.size()), message.data());
  std::abort();
}
}  // namespace internal

CallbackHandle::CallbackHandle(CallbackHandle&& other) noexcept
    : family_(other.family_), id_(other.id_) {
  other.family_ = nullptr;
}

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    family_ = other.family_;
    id_ = other.id_;
    other.family_ = nullptr;
  }
  return *this;
}

void CallbackHandle::Reset() {
  if (family_ != nullptr) family_->RemoveCallback(id_);
  family_ = nullptr;
}

MetricFamily::MetricFamily(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void MetricFamily::CheckLabelCount(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    internal::Die(name_ + ": wrong number of label values");
  }
}

CallbackHandle MetricFamily::AddCallbackSeries(LabelValues values, std::function<double()> fn) {
  CheckLabelCount(values);
  MutexLock lock(&mu_);
  uint64_t id = next_callback_id_++;
  callbacks_.emplace(id, Callback{std::move(values), std::move(fn)});
  return CallbackHandle(this, id);
}

void MetricFamily::RemoveCallback(uint64_t id) {
  std::function<double()> doomed;  // Destroyed after unlocking: it may own anything.
  MutexLock lock(&mu_);
  auto it = callbacks_.find(id);
  if (it == callbacks_.end()) return;
  doomed = std::move(it->second.fn);
  callbacks_.erase(it);
}

void MetricFamily::Render(std::string* out) const {
  out->append("# HELP ").append(name_).push_back(' ');
  AppendEscapedHelp(out, help_);
  out->append("\n# TYPE ").append(name_).push_back(' ');
  out->append(MetricTypeName(type_));
  out->push_back('\n');

  struct Entry {
    const LabelValues* values;
    const void* series;           // Stored series, or null for a callback.
    const Callback* callback;
    uint64_t priority;            // Newest callback first among equal labels.
  };
  MutexLock lock(&mu_);
  std::vector<std::pair<const LabelValues*, const void*>> stored;
  ListSeriesLocked(&stored);
  std::vector<Entry> entries;
  entries.reserve(stored.size() + callbacks_.size());
  for (const auto& [values, series] : stored) entries.push_back({values, series, nullptr, 0});
  for (const auto& [id, cb] : callbacks_) entries.push_back({&cb.values, nullptr, &cb, id});
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (*a.values != *b.values) return *a.values < *b.values;
    return a.priority > b.priority;
  });
  const LabelValues* previous = nullptr;
  for (const Entry& e : entries) {
    if (previous != nullptr && *previous == *e.values) continue;  // Shadowed.
    previous = e.values;
    if (e.callback != nullptr) {
      out->append(name_);
      AppendLabels(out, label_names_, *e.values);
      out->push_back(' ');
      AppendValue(out, e.callback->fn());
      out->push_back('\n');
    } else {
      RenderSeriesLocked(*e.values, e.series, out);
    }
  }
}

}  // namespace sluice::metrics
