// The replication quota's measured rate and its verdicts, on a manual clock.
#include "replication/replication_quota.h"

#include <gtest/gtest.h>

#include <atomic>

namespace sluice::replication {
namespace {

class ReplicationQuotaTest : public ::testing::Test {
 protected:
  ReplicationQuota Make(int64_t rate) {
    ReplicationQuotaOptions o;
    o.bytes_per_second = rate;
    o.samples = 11;
    o.sample_ms = 1000;
    o.clock = [this] { return now_.load(); };
    return ReplicationQuota(o);
  }
  std::atomic<int64_t> now_{1'000'000};
};

TEST_F(ReplicationQuotaTest, UnboundedIsNeverExceeded) {
  ReplicationQuota q = Make(ReplicationQuotaOptions::kUnbounded);
  EXPECT_FALSE(q.bounded());
  q.Record(uint64_t{1} << 40);
  EXPECT_FALSE(q.Exceeded());
  EXPECT_EQ(q.MillisUntilUnder(), 0);
}

TEST_F(ReplicationQuotaTest, AFirstBurstIsMeasuredOverAtLeastOneSample) {
  ReplicationQuota q = Make(1000);
  EXPECT_TRUE(q.bounded());
  q.Record(1000);  // 1000 B in the first millisecond: 1000 B/s over one sample
  EXPECT_FALSE(q.Exceeded());
  q.Record(1);
  EXPECT_TRUE(q.Exceeded());
}

TEST_F(ReplicationQuotaTest, TheRateFallsAsTimePassesWithoutTraffic) {
  ReplicationQuota q = Make(1000);
  q.Record(5000);
  EXPECT_TRUE(q.Exceeded());
  // 5000 B over the time since the sample began: at the bound after 5 s.
  const int64_t wait = q.MillisUntilUnder();
  EXPECT_EQ(wait, 5000);
  now_ += wait - 1;
  EXPECT_TRUE(q.Exceeded());
  now_ += 1;
  EXPECT_FALSE(q.Exceeded());
  EXPECT_EQ(q.MillisUntilUnder(), 0);
}

TEST_F(ReplicationQuotaTest, SteadyTrafficAtTheBoundPassesAndAboveItDoesNot) {
  ReplicationQuota q = Make(1000);
  for (int i = 0; i < 30; ++i) {  // 1000 B/s for 30 s, sent every 100 ms
    q.Record(100);
    now_ += 100;
    EXPECT_FALSE(q.Exceeded()) << "at " << i;
  }
  EXPECT_NEAR(q.MeasuredRate(), 1000, 110);
  for (int i = 0; i < 30; ++i) {  // then 2000 B/s
    q.Record(200);
    now_ += 100;
  }
  EXPECT_TRUE(q.Exceeded());
  EXPECT_GT(q.MeasuredRate(), 1200);  // the window still holds 8 s at the old rate
}

TEST_F(ReplicationQuotaTest, OldSamplesLeaveTheWindow) {
  ReplicationQuota q = Make(1000);
  q.Record(1'000'000);
  now_ += 10'999;
  EXPECT_TRUE(q.Exceeded());
  now_ += 1;  // 11 samples of 1 s: the burst has left the window
  EXPECT_FALSE(q.Exceeded());
  EXPECT_EQ(q.MeasuredRate(), 0);
}

TEST_F(ReplicationQuotaTest, ARateChangeAppliesToWhatWasMeasured) {
  ReplicationQuota q = Make(1000);
  q.Record(3000);
  EXPECT_TRUE(q.Exceeded());
  q.SetRate(5000);
  EXPECT_FALSE(q.Exceeded());
  q.SetRate(ReplicationQuotaOptions::kUnbounded);
  EXPECT_FALSE(q.bounded());
  q.SetRate(0);  // a zero bound holds back everything once anything passed
  EXPECT_TRUE(q.Exceeded());
  EXPECT_GT(q.MillisUntilUnder(), 0);
}

}  // namespace
}  // namespace sluice::replication
