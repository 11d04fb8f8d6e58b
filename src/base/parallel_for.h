// ParallelFor: runs fn(0) .. fn(n - 1) on up to `threads` short-lived
// threads and returns when all are done.
//
// For work that mostly waits on the disk (creating or closing thousands of
// partition logs): each call's syncs and journal waits overlap with the
// others' instead of adding up. Not a pool: threads start and end with the
// call, which is cheap next to that work and keeps nothing running idle.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace sluice {

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn) {
  const size_t workers = std::min(n, static_cast<size_t>(std::max(threads, 1)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace sluice
