// Measurement pieces of `sluice perf`: a latency histogram, a rate pacer and
// the payload pool. No librdkafka here, so the unit tests can pin them down.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::tools {

using PerfClock = std::chrono::steady_clock;

// Nanoseconds on PerfClock; what e2e payloads carry and latencies subtract.
inline int64_t PerfNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             PerfClock::now().time_since_epoch())
      .count();
}

// Latencies in microseconds, log-linear buckets (128 per power of two, so a
// percentile is within 0.8% of the true value) in fixed memory: recording is
// one index computation and one increment. Single-threaded.
class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(int64_t micros);  // Negative values count as 0.
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  int64_t max_us() const { return max_; }
  double mean_us() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The smallest recorded bucket's upper bound such that at least `q` (0..1)
  // of the values are at or below it; the exact maximum for q = 1; 0 if empty.
  int64_t Percentile(double q) const;

  // Exposed for the tests: bucket index of a value and the bucket's bounds.
  static size_t BucketOf(int64_t micros);
  static int64_t BucketUpperBound(size_t bucket);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t max_ = 0;
};

// p50/p99/p99.9/max/mean in milliseconds, as the reports print them.
struct LatencySummary {
  uint64_t count = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
};
LatencySummary Summarize(const LatencyHistogram& h);

// Spaces sends at `rate` per second from the first call to Due(): message i is
// due at start + i/rate. After a stall it catches up at full speed rather
// than dropping messages, so the total count stays right. rate 0: unlimited.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate) {}
  // How many more messages may be sent now (sent so far: `sent`); at least 1
  // when unlimited.
  int64_t Due(int64_t sent, PerfClock::time_point now);
  // When message number `sent` becomes due (now when unlimited).
  PerfClock::time_point NextDue(int64_t sent) const;

 private:
  double rate_;
  bool started_ = false;
  PerfClock::time_point start_;
};

// Message values: random upper-case letters (like Kafka's perf tool) from one
// buffer cut into distinct slices, so no two values inside one compression
// window are equal and lz4/zstd are not flattered by repeats.
class PayloadPool {
 public:
  PayloadPool(size_t size, uint64_t seed = 42);
  // The i-th value (cycling through the pool), `size` bytes.
  std::string_view Get(uint64_t i) const;
  size_t size() const { return size_; }

 private:
  size_t size_;
  size_t slices_;
  std::string data_;
};

// "1,234,567"
std::string Thousands(uint64_t n);

}  // namespace sluice::tools
