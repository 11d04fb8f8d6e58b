// MetricFamily: one metric name with its HELP, TYPE and label names, holding
// one series per set of label values, plus optional scrape-time callbacks.
//
// Thread-safety: all methods are thread-safe. Creating or removing a series
// and rendering take the family's mutex; updating a series handle does not.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"

namespace sluice::metrics {

// Label values, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

enum class MetricType { kCounter, kGauge, kHistogram };
std::string_view MetricTypeName(MetricType type);

class MetricFamily;

// Keeps a scrape-time callback registered; destroying it (or Reset())
// unregisters. Once Reset() returns the callback is not running and will not
// run again, so an owner may free what the callback reads right after.
// The family (i.e. the registry) must outlive the handle.
class CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(CallbackHandle&& other) noexcept;
  CallbackHandle& operator=(CallbackHandle&& other) noexcept;
  CallbackHandle(const CallbackHandle&) = delete;
  CallbackHandle& operator=(const CallbackHandle&) = delete;
  ~CallbackHandle() { Reset(); }

  void Reset();
  bool registered() const { return family_ != nullptr; }

 private:
  friend class MetricFamily;
  CallbackHandle(MetricFamily* family, uint64_t id) : family_(family), id_(id) {}

  MetricFamily* family_ = nullptr;
  uint64_t id_ = 0;
};

class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names);
  virtual ~MetricFamily() = default;
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends HELP, TYPE and every series, ordered by label values. Callbacks
  // run here, on the scraping thread, under the family's mutex: they must be
  // quick, thread-safe, and must not touch this registry or wait on a lock
  // that is held while unregistering them.
  void Render(std::string* out) const;

 protected:
  // Registers `fn` as the series for `values`; if a callback or a stored
  // series already has those labels, the newest callback wins at scrape.
  CallbackHandle AddCallbackSeries(LabelValues values, std::function<double()> fn);

  // Aborts if `values` does not match the label names: a programming error.
  void CheckLabelCount(const LabelValues& values) const;

  // Derived families list their stored series (under mu_) ...
  virtual void ListSeriesLocked(std::vector<std::pair<const LabelValues*, const void*>>* out) const
      REQUIRES(mu_) = 0;
  // ... and render one of them (under mu_).
  virtual void RenderSeriesLocked(const LabelValues& values, const void* series,
                                  std::string* out) const REQUIRES(mu_) = 0;

  mutable Mutex mu_;

 private:
  friend class CallbackHandle;
  struct Callback {
    LabelValues values;
    std::function<double()> fn;
  };
  void RemoveCallback(uint64_t id);

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
  uint64_t next_callback_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Callback> callbacks_ GUARDED_BY(mu_);
};

namespace internal {
// Reports a misuse of the metrics API (bad name, wrong label count) and aborts.
[[noreturn]] void Die(std::string_view message);
}  // namespace internal

}  // namespace sluice::metrics
