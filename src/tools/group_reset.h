// `sluice group reset-offsets`: how each partition's new offset is chosen.
// Pure functions, so the rules (Kafka's, clamping included) are testable
// without a broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"

namespace sluice::tools {

enum class ResetMode { kEarliest, kLatest, kOffset, kShiftBy, kDateTime };

struct ResetSpec {
  ResetMode mode = ResetMode::kEarliest;
  int64_t value = 0;  // The offset, the shift, or the time in ms since the epoch.
};

// What the broker told us about one partition.
struct PartitionOffsets {
  int64_t log_start = 0;
  int64_t log_end = 0;
  std::optional<int64_t> committed;  // nullopt: the group has none.
  std::optional<int64_t> at_time;    // For kDateTime: nullopt when no message is that late.
};

// The new committed offset. As in Kafka, targets outside [log_start, log_end]
// are clamped to the nearest end, and shifting needs a committed offset.
Result<int64_t> PlanResetOffset(const ResetSpec& spec, const PartitionOffsets& p);

// ISO 8601 as kafka-consumer-groups.sh takes it: YYYY-MM-DDTHH:MM:SS[.sss]
// with an optional zone (Z, +HH:MM, +HHMM, -...); no zone means local time.
// Returns milliseconds since the epoch.
Result<int64_t> ParseDateTime(std::string_view text);

}  // namespace sluice::tools
