#include "api/handlers/await_leaders.h"

#include <memory>
#include <utility>

#include "base/mutex.h"

namespace sluice::api {
namespace {

// One wait, shared by the cache's waiter and the timer; whichever sees the
// outcome first finishes it, the other finds it done.
struct Wait : std::enable_shared_from_this<Wait> {
  Wait(cluster::MetadataCache& c, Timers& t, std::map<std::string, int32_t> counts,
       std::function<void(std::set<std::string>)> fn)
      : cache(c), timers(t), partition_counts(std::move(counts)), done(std::move(fn)) {}

  cluster::MetadataCache& cache;
  Timers& timers;
  const std::map<std::string, int32_t> partition_counts;
  std::function<void(std::set<std::string>)> done;

  Mutex mu;
  bool finished GUARDED_BY(mu) = false;
  uint64_t waiter_id GUARDED_BY(mu) = 0;
  uint64_t timer_id GUARDED_BY(mu) = 0;

  // Finishes if every partition has a leader; else waits for the next update.
  void Check() {
    // Armed before the look, so an update between the two is not missed.
    {
      MutexLock lock(&mu);
      if (finished) return;
      std::weak_ptr<Wait> weak = weak_from_this();
      waiter_id = cache.AddWaiter([weak] {
        if (auto self = weak.lock()) self->Check();
      });
    }
    if (TopicsWithoutLeaders(*cache.Current(), partition_counts).empty()) Finish(false);
  }

  void Finish(bool timed_out) {
    {
      MutexLock lock(&mu);
      if (finished) return;
      finished = true;
      cache.RemoveWaiter(waiter_id);
      if (!timed_out) timers.Cancel(timer_id);
    }
    done(timed_out ? TopicsWithoutLeaders(*cache.Current(), partition_counts)
                   : std::set<std::string>{});
  }
};

}  // namespace

std::set<std::string> TopicsWithoutLeaders(const cluster::MetadataSnapshot& snapshot,
                                           const std::map<std::string, int32_t>& partition_counts) {
  std::set<std::string> missing;
  for (const auto& [topic, count] : partition_counts) {
    auto t = snapshot.topics.find(topic);
    bool ready = t != snapshot.topics.end();
    for (int32_t p = 0; ready && p < count; ++p) {
      auto it = t->second.partitions.find(p);
      ready = it != t->second.partitions.end() && it->second.leader >= 0;
    }
    if (!ready) missing.insert(topic);
  }
  return missing;
}

void AwaitLeaders(cluster::MetadataCache& cache, Timers& timers,
                  std::map<std::string, int32_t> partition_counts,
                  std::chrono::milliseconds timeout,
                  std::function<void(std::set<std::string> without_leaders)> done) {
  auto wait = std::make_shared<Wait>(cache, timers, std::move(partition_counts), std::move(done));
  {
    MutexLock lock(&wait->mu);
    // The timer holds the wait alive until it fires or is cancelled.
    wait->timer_id = timers.Schedule(timeout, [wait] { wait->Finish(true); });
  }
  wait->Check();
}

}  // namespace sluice::api
