// AwaitMetadata: how a request waits for the controller's decisions to
// reach this broker. Writing ZooKeeper (a new topic, a deletion) is only a
// request to the controller, which acts and then tells every broker with
// UpdateMetadata; a client answered before this broker's metadata cache
// shows the outcome would be told something the cluster does not yet do.
// The wait never blocks a thread: the cache's waiters and a timer drive it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <utility>

#include "base/timers.h"
#include "cluster/metadata_cache.h"

namespace sluice::api {

// Calls `done` once, from whichever thread saw the outcome (an update of
// `cache`, the timer, or the caller's own if it holds already): with true
// as soon as `ready` holds for the cache's snapshot, or with false at
// `timeout`. `ready` runs on those threads and must be cheap.
void AwaitMetadata(cluster::MetadataCache& cache, Timers& timers,
                   std::function<bool(const cluster::MetadataSnapshot&)> ready,
                   std::chrono::milliseconds timeout, std::function<void(bool ready)> done);

// What a request still waits to see in a snapshot: the topics without
// leaders, the topics not deleted yet, the partitions not re-elected yet.
template <typename T>
using Outstanding = std::function<std::set<T>(const cluster::MetadataSnapshot&)>;

// AwaitMetadata for a wait on several things at once: `done` gets what
// `outstanding` still names at the end, nothing when all settled in time,
// else those left at `timeout`. Same threads and contract as AwaitMetadata.
template <typename T>
void AwaitSettled(cluster::MetadataCache& cache, Timers& timers, Outstanding<T> outstanding,
                  std::chrono::milliseconds timeout, std::function<void(std::set<T> left)> done) {
  auto left = std::make_shared<const Outstanding<T>>(std::move(outstanding));
  AwaitMetadata(
      cache, timers, [left](const cluster::MetadataSnapshot& s) { return (*left)(s).empty(); },
      timeout, [&cache, left, done = std::move(done)](bool settled) {
        done(settled ? std::set<T>{} : (*left)(*cache.Current()));
      });
}

}  // namespace sluice::api
