#include "tools/perf_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::tools {

namespace {

// Values below 2^kExactBits get a bucket each; above, every power of two is
// split into 2^kSubBits buckets.
constexpr int kSubBits = 7;
constexpr int kExactBits = kSubBits + 1;
constexpr size_t kExact = size_t{1} << kExactBits;  // 256
constexpr size_t kSub = size_t{1} << kSubBits;      // 128
constexpr size_t kBuckets = kExact + (63 - kExactBits) * kSub;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

size_t LatencyHistogram::BucketOf(int64_t micros) {
  uint64_t v = micros < 0 ? 0 : static_cast<uint64_t>(micros);
  if (v < kExact) return static_cast<size_t>(v);
  int shift = std::bit_width(v) - 1 - kSubBits;  // >= 1
  uint64_t top = v >> shift;                     // in [kSub, 2 * kSub)
  return kExact + static_cast<size_t>(shift - 1) * kSub + static_cast<size_t>(top - kSub);
}

int64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  if (bucket < kExact) return static_cast<int64_t>(bucket);
  size_t shift = (bucket - kExact) / kSub + 1;
  uint64_t top = (bucket - kExact) % kSub + kSub;
  return static_cast<int64_t>(((top + 1) << shift) - 1);
}

void LatencyHistogram::Record(int64_t micros) {
  if (micros < 0) micros = 0;
  ++buckets_[BucketOf(micros)];
  ++count_;
  sum_ += micros;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  sum_ = 0;
  max_ = 0;
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1.0) return max_;
  auto rank = static_cast<uint64_t>(std::ceil(std::max(q, 0.0) * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(BucketUpperBound(i), max_);
  }
  return max_;
}

LatencySummary Summarize(const LatencyHistogram& h) {
  LatencySummary s;
  s.count = h.count();
  s.p50_ms = static_cast<double>(h.Percentile(0.50)) / 1000.0;
  s.p99_ms = static_cast<double>(h.Percentile(0.99)) / 1000.0;
  s.p999_ms = static_cast<double>(h.Percentile(0.999)) / 1000.0;
  s.max_ms = static_cast<double>(h.max_us()) / 1000.0;
  s.mean_ms = h.mean_us() / 1000.0;
  return s;
}

int64_t Pacer::Due(int64_t sent, PerfClock::time_point now) {
  if (rate_ <= 0) return 1;
  if (!started_) {
    started_ = true;
    start_ = now;
  }
  double elapsed = std::chrono::duration<double>(now - start_).count();
  auto due = static_cast<int64_t>(elapsed * rate_) + 1;  // Message 0 is due at once.
  return std::max<int64_t>(0, due - sent);
}

PerfClock::time_point Pacer::NextDue(int64_t sent) const {
  if (rate_ <= 0 || !started_) return PerfClock::now();
  return start_ + std::chrono::duration_cast<PerfClock::duration>(
                      std::chrono::duration<double>(static_cast<double>(sent) / rate_));
}

PayloadPool::PayloadPool(size_t size, uint64_t seed) : size_(size) {
  // 4 MiB holds 40k distinct 100-byte values: far more than one batch.
  size_t total = std::max<size_t>(size_t{4} << 20, size * 16);
  slices_ = size == 0 ? 1 : total / size;
  data_.resize(slices_ * size);
  uint64_t x = seed | 1;
  for (char& c : data_) {
    // xorshift64: cheap, deterministic, good enough for filler bytes.
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>('A' + (x >> 32) % 26);
  }
}

std::string_view PayloadPool::Get(uint64_t i) const {
  return std::string_view(data_).substr((i % slices_) * size_, size_);
}

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace sluice::tools
