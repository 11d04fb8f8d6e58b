// ReplicationQuota: a bytes-per-second bound on one side of this broker's
// replication traffic, as Kafka's replication quotas (KIP-73) bound a
// reassignment's catch-up: leader.replication.throttled.rate on what a
// leader sends to throttled followers, follower.replication.throttled.rate
// on what a follower fetches for its throttled replicas.
//
// Which replicas are throttled is the topics' business
// (leader./follower.replication.throttled.replicas, config/topic_config.h);
// only replicas outside the ISR are ever held back, so a throttle never
// slows acks=all. The quota measures the bytes recorded against it over a
// window of `samples` samples of `sample_ms` each, as Kafka's SimpleRate
// does: bytes in the retained samples divided by the time since the oldest
// one began, at least one sample long. While that rate is above the bound
// the throttled replicas get nothing; the rest of the traffic goes on.
//
// Thread-safe: the fetch handlers (leader side) and the fetcher threads
// (follower side) record and ask at once, and a config change sets the rate.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>

#include "base/mutex.h"

namespace sluice::replication {

struct ReplicationQuotaOptions {
  static constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
  int64_t bytes_per_second = kUnbounded;  // *.replication.throttled.rate
  int32_t samples = 11;                   // replication.quota.window.num
  int64_t sample_ms = 1000;               // replication.quota.window.size.seconds
  // Milliseconds on a monotonic clock; tests inject a manual one.
  std::function<int64_t()> clock;
};

class ReplicationQuota {
 public:
  // REQUIRES: options.clock set, samples >= 1, sample_ms >= 1.
  explicit ReplicationQuota(ReplicationQuotaOptions options);

  // A new bound; kUnbounded lifts it. What was recorded stays measured.
  void SetRate(int64_t bytes_per_second) EXCLUDES(mu_);
  int64_t rate() const EXCLUDES(mu_);
  // Whether a bound is set at all: when not, callers skip the per-replica
  // checks (and the topic config lookups they need) entirely.
  bool bounded() const EXCLUDES(mu_);

  // Whether throttled replicas must wait: the measured rate is above the bound.
  bool Exceeded() EXCLUDES(mu_);
  // Bytes sent or fetched for throttled replicas.
  void Record(uint64_t bytes) EXCLUDES(mu_);
  // How long until the measured rate is back at the bound, if nothing more
  // is recorded: 0 when it is not above it (Kafka's throttle time).
  int64_t MillisUntilUnder() EXCLUDES(mu_);
  // The measured rate, bytes per second (metrics, tests).
  double MeasuredRate() EXCLUDES(mu_);

  // Totals for metrics: bytes recorded, and replica fetches the quota held
  // back (counted by the callers, which know how many they held).
  void CountHeldBack(uint64_t n) EXCLUDES(mu_);
  uint64_t bytes_total() const EXCLUDES(mu_);
  uint64_t held_back_total() const EXCLUDES(mu_);

 private:
  struct Sample {
    int64_t start_ms = 0;
    uint64_t bytes = 0;
  };
  // Drops samples that ended more than the window ago.
  void PurgeLocked(int64_t now) REQUIRES(mu_);
  double RateLocked(int64_t now) REQUIRES(mu_);

  const ReplicationQuotaOptions options_;
  mutable Mutex mu_;
  int64_t bound_ GUARDED_BY(mu_);
  std::deque<Sample> samples_ GUARDED_BY(mu_);  // oldest first
  uint64_t bytes_total_ GUARDED_BY(mu_) = 0;
  uint64_t held_back_total_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::replication
