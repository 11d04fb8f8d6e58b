// Overflow-safe arithmetic for values a client chooses: a batch's
// timestamps, offset deltas and counts arrive from the network and may be
// anything an int64/int32 can hold (INT64_MIN, INT64_MAX, -1), so every
// difference or sum storage forms from one saturates instead of overflowing
// (signed overflow is undefined behaviour, not a wrap).
#pragma once

#include <cstdint>
#include <limits>

namespace sluice::storage {

// a - b, clamped to [INT64_MIN, INT64_MAX].
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

// a + b, clamped to [INT64_MIN, INT64_MAX].
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

}  // namespace sluice::storage
