// Parsing of the argument values that CLI11 leaves as strings: "k=v" pairs,
// start offsets, key/value splitting of produced lines. Pure functions, so the
// unit tests can pin down every edge without a broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sluice::tools {

using KeyValue = std::pair<std::string, std::string>;

// "name=value" (the value may be empty or contain '='; the name may not be empty).
Result<KeyValue> ParseKeyValue(std::string_view arg);
Result<std::vector<KeyValue>> ParseKeyValues(const std::vector<std::string>& args);

// Where consume starts in each partition: --offset beginning|end|N|-N.
struct StartOffset {
  enum class Kind { kBeginning, kEnd, kAbsolute, kFromEnd };
  Kind kind = Kind::kEnd;
  int64_t value = 0;  // The offset for kAbsolute, the distance for kFromEnd.

  bool operator==(const StartOffset&) const = default;
};
Result<StartOffset> ParseStartOffset(std::string_view arg);

// Splits a produced line at the first `separator`: {key, value}; nullopt if the
// line does not contain it. An empty separator never matches.
std::optional<std::pair<std::string_view, std::string_view>> SplitKeyValue(
    std::string_view line, std::string_view separator);

// Replaces \n \t \r \0 \\ so that separators like '\t' can be typed.
Result<std::string> Unescape(std::string_view s);

// A whole decimal int64, nothing before or after it.
std::optional<int64_t> ParseInt64(std::string_view s);

}  // namespace sluice::tools
