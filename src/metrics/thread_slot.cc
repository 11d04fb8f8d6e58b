#include "metrics/thread_slot.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <thread>

namespace sluice::metrics {

namespace internal {
uint32_t AssignSlot() {
  static std::atomic<uint32_t> next{0};
  tls_slot = next.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff;
  return tls_slot;
}
}  // namespace internal

void BindThisThreadToSlot(uint32_t slot) { internal::tls_slot = slot & 0x7fffffff; }

uint32_t DefaultSlotCount() {
  uint32_t n = std::max(1u, std::thread::hardware_concurrency());
  return std::min(64u, std::bit_ceil(n));
}

}  // namespace sluice::metrics
