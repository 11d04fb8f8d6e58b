#include "replication/replication_quota.h"

#include <algorithm>
#include <cmath>

namespace sluice::replication {

ReplicationQuota::ReplicationQuota(ReplicationQuotaOptions options)
    : options_(std::move(options)), bound_(options_.bytes_per_second) {}

void ReplicationQuota::SetRate(int64_t bytes_per_second) {
  MutexLock lock(&mu_);
  bound_ = bytes_per_second;
}

int64_t ReplicationQuota::rate() const {
  MutexLock lock(&mu_);
  return bound_;
}

bool ReplicationQuota::bounded() const {
  MutexLock lock(&mu_);
  return bound_ != ReplicationQuotaOptions::kUnbounded;
}

void ReplicationQuota::PurgeLocked(int64_t now) {
  const int64_t window = options_.sample_ms * options_.samples;
  while (!samples_.empty() && now - samples_.front().start_ms >= window) samples_.pop_front();
}

double ReplicationQuota::RateLocked(int64_t now) {
  PurgeLocked(now);
  if (samples_.empty()) return 0;
  uint64_t total = 0;
  for (const Sample& s : samples_) total += s.bytes;
  // The measured span runs from the oldest sample's start, but is at least
  // one sample long, so a first burst is not divided by a few milliseconds.
  const int64_t span = std::max(now - samples_.front().start_ms, options_.sample_ms);
  return static_cast<double>(total) * 1000.0 / static_cast<double>(span);
}

bool ReplicationQuota::Exceeded() {
  MutexLock lock(&mu_);
  if (bound_ == ReplicationQuotaOptions::kUnbounded) return false;
  return RateLocked(options_.clock()) > static_cast<double>(bound_);
}

void ReplicationQuota::Record(uint64_t bytes) {
  if (bytes == 0) return;
  MutexLock lock(&mu_);
  const int64_t now = options_.clock();
  PurgeLocked(now);
  if (samples_.empty() || now - samples_.back().start_ms >= options_.sample_ms) {
    samples_.push_back(Sample{now, 0});
    if (samples_.size() > static_cast<size_t>(options_.samples)) samples_.pop_front();
  }
  samples_.back().bytes += bytes;
  bytes_total_ += bytes;
}

void ReplicationQuota::CountHeldBack(uint64_t n) {
  MutexLock lock(&mu_);
  held_back_total_ += n;
}

uint64_t ReplicationQuota::bytes_total() const {
  MutexLock lock(&mu_);
  return bytes_total_;
}

uint64_t ReplicationQuota::held_back_total() const {
  MutexLock lock(&mu_);
  return held_back_total_;
}

int64_t ReplicationQuota::MillisUntilUnder() {
  MutexLock lock(&mu_);
  if (bound_ == ReplicationQuotaOptions::kUnbounded) return 0;
  const int64_t now = options_.clock();
  const double rate = RateLocked(now);
  if (rate <= static_cast<double>(bound_)) return 0;
  if (bound_ <= 0) return options_.sample_ms * options_.samples;  // nothing passes a 0 bound
  // The bytes held now, spread at the bound, end this long after the oldest
  // sample began; the window's end caps it (the samples expire by then).
  uint64_t total = 0;
  for (const Sample& s : samples_) total += s.bytes;
  const double drained_at = static_cast<double>(samples_.front().start_ms) +
                            static_cast<double>(total) * 1000.0 / static_cast<double>(bound_);
  const int64_t window_end = samples_.back().start_ms + options_.sample_ms * options_.samples;
  const int64_t until = std::min<int64_t>(static_cast<int64_t>(std::ceil(drained_at)), window_end);
  return std::max<int64_t>(until - now, 1);
}

double ReplicationQuota::MeasuredRate() {
  MutexLock lock(&mu_);
  return RateLocked(options_.clock());
}

}  // namespace sluice::replication
