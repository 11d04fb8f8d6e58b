#include "api/handlers/await_metadata.h"

#include <cstdint>
#include <memory>
#include <utility>

#include "base/mutex.h"

namespace sluice::api {
namespace {

// One wait, shared by the cache's waiter and the timer; whichever sees the
// outcome first finishes it, the other finds it done.
struct Wait : std::enable_shared_from_this<Wait> {
  Wait(cluster::MetadataCache& c, Timers& t,
       std::function<bool(const cluster::MetadataSnapshot&)> r, std::function<void(bool)> fn)
      : cache(c), timers(t), ready(std::move(r)), done(std::move(fn)) {}

  cluster::MetadataCache& cache;
  Timers& timers;
  const std::function<bool(const cluster::MetadataSnapshot&)> ready;
  const std::function<void(bool)> done;

  Mutex mu;
  bool finished GUARDED_BY(mu) = false;
  uint64_t waiter_id GUARDED_BY(mu) = 0;
  uint64_t timer_id GUARDED_BY(mu) = 0;

  // Finishes if `ready` holds; else waits for the next update.
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
    if (ready(*cache.Current())) Finish(true);
  }

  void Finish(bool became_ready) {
    {
      MutexLock lock(&mu);
      if (finished) return;
      finished = true;
      cache.RemoveWaiter(waiter_id);
      if (became_ready) timers.Cancel(timer_id);
    }
    done(became_ready);
  }
};

}  // namespace

void AwaitMetadata(cluster::MetadataCache& cache, Timers& timers,
                   std::function<bool(const cluster::MetadataSnapshot&)> ready,
                   std::chrono::milliseconds timeout, std::function<void(bool ready)> done) {
  auto wait = std::make_shared<Wait>(cache, timers, std::move(ready), std::move(done));
  {
    MutexLock lock(&wait->mu);
    // The timer holds the wait alive until it fires or is cancelled.
    wait->timer_id = timers.Schedule(timeout, [wait] { wait->Finish(false); });
  }
  wait->Check();
}

}  // namespace sluice::api
