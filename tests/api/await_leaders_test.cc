// A cluster's CreateTopics answer waits for the controller's leaders
// (AwaitSettled on TopicsWithoutLeaders, as RespondWhenLed does). Done once every partition of every topic has a leader in the
// metadata cache (whatever order the updates come in), at the timeout with
// the topics still missing one, and exactly once either way.
#include "api/handlers/await_leaders.h"
#include "api/handlers/await_metadata.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "support/manual_timers.h"

namespace sluice::api {
namespace {

using namespace std::chrono_literals;
using testing::ManualTimers;

cluster::PartitionUpdate Led(const std::string& topic, int32_t p, int32_t leader) {
  cluster::PartitionUpdate u;
  u.topic = topic;
  u.partition = p;
  u.state.leader = leader;
  u.state.replicas = {1, 2, 3};
  u.state.isr = {1, 2, 3};
  return u;
}

struct Outcome {
  int calls = 0;
  std::optional<std::set<std::string>> without_leaders;
};

void AwaitLeaders(cluster::MetadataCache& cache, Timers& timers,
                  std::map<std::string, int32_t> partition_counts,
                  std::chrono::milliseconds timeout,
                  std::function<void(std::set<std::string>)> done) {
  AwaitSettled<std::string>(
      cache, timers,
      [counts = std::move(partition_counts)](const cluster::MetadataSnapshot& s) {
        return TopicsWithoutLeaders(s, counts);
      },
      timeout, std::move(done));
}

auto Record(Outcome* out) {
  return [out](std::set<std::string> missing) {
    ++out->calls;
    out->without_leaders = std::move(missing);
  };
}

TEST(AwaitLeadersTest, DoneOnceEveryPartitionHasALeader) {
  cluster::MetadataCache cache;
  ManualTimers timers;
  Outcome out;
  AwaitLeaders(cache, timers, {{"a", 2}, {"b", 1}}, 30000ms, Record(&out));
  EXPECT_EQ(0, out.calls);
  ASSERT_TRUE(cache.Update(1, {Led("a", 0, 1), Led("b", 0, 2)}));
  EXPECT_EQ(0, out.calls) << "a-1 has no leader yet";
  // A partition known but offline (leader -1) is not done either.
  ASSERT_TRUE(cache.Update(1, {Led("a", 1, -1)}));
  EXPECT_EQ(0, out.calls);
  ASSERT_TRUE(cache.Update(1, {Led("a", 1, 3)}));
  ASSERT_EQ(1, out.calls);
  EXPECT_TRUE(out.without_leaders->empty());
  EXPECT_EQ(0u, timers.pending()) << "the timeout is cancelled";
  ASSERT_TRUE(cache.Update(1, {Led("a", 1, 2)}));
  timers.AdvanceBy(60000ms);
  EXPECT_EQ(1, out.calls) << "done exactly once";
}

TEST(AwaitLeadersTest, DoneAtOnceWhenTheCacheAlreadyHasThem) {
  cluster::MetadataCache cache;
  ManualTimers timers;
  ASSERT_TRUE(cache.Update(1, {Led("a", 0, 1)}));
  Outcome out;
  AwaitLeaders(cache, timers, {{"a", 1}}, 30000ms, Record(&out));
  ASSERT_EQ(1, out.calls);
  EXPECT_TRUE(out.without_leaders->empty());
}

TEST(AwaitLeadersTest, TimeoutNamesTheTopicsStillWithoutLeaders) {
  cluster::MetadataCache cache;
  ManualTimers timers;
  Outcome out;
  AwaitLeaders(cache, timers, {{"a", 1}, {"b", 2}}, 5000ms, Record(&out));
  ASSERT_TRUE(cache.Update(1, {Led("a", 0, 1), Led("b", 0, 1)}));
  timers.AdvanceBy(4999ms);
  EXPECT_EQ(0, out.calls);
  timers.AdvanceBy(1ms);
  ASSERT_EQ(1, out.calls);
  EXPECT_EQ(std::set<std::string>{"b"}, *out.without_leaders);
  ASSERT_TRUE(cache.Update(1, {Led("b", 1, 2)}));
  EXPECT_EQ(1, out.calls) << "a late leader does not answer twice";
}

}  // namespace
}  // namespace sluice::api
