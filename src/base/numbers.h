// Parsing numbers out of text the broker wrote itself (file names,
// checkpoints), where anything but a whole, in-range number is corruption.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace sluice {

// Whether all of `s` is one decimal int64 (sign allowed); sets *v if so.
inline bool ParseInt64(std::string_view s, int64_t* v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace sluice
