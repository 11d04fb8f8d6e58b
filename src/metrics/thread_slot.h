// Per-thread slot numbers that spread metric updates over cache-line-padded
// cells, so shards that update the same counter never share a cache line.
//
// A thread gets a slot on its first metric update (round robin); a shard
// thread may instead bind itself to its shard index at start-up, which makes
// the mapping one cell per shard as long as there are enough cells.
#pragma once

#include <cstdint>

namespace sluice::metrics {

// The assumed cache line size; a constant rather than
// std::hardware_destructive_interference_size, whose value GCC warns may vary.
inline constexpr std::size_t kCacheLineSize = 64;

namespace internal {
inline constexpr uint32_t kNoSlot = UINT32_MAX;
inline constinit thread_local uint32_t tls_slot = kNoSlot;
uint32_t AssignSlot();  // Slow path: first update from this thread.
}  // namespace internal

// The calling thread's slot; metrics reduce it modulo their cell count.
inline uint32_t ThisThreadSlot() {
  uint32_t slot = internal::tls_slot;
  if (slot == internal::kNoSlot) [[unlikely]] slot = internal::AssignSlot();
  return slot;
}

// Pins the calling thread to `slot` (e.g. its shard index). Call before the
// thread's first update; later calls work but only move future updates.
void BindThisThreadToSlot(uint32_t slot);

// Default number of cells per metric: the hardware thread count rounded up to
// a power of two, capped at 64 (memory per counter is 64 bytes per cell).
uint32_t DefaultSlotCount();

}  // namespace sluice::metrics
