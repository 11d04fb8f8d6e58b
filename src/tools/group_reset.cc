#include "tools/group_reset.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace sluice::tools {

Result<int64_t> PlanResetOffset(const ResetSpec& spec, const PartitionOffsets& p) {
  int64_t target = 0;
  switch (spec.mode) {
    case ResetMode::kEarliest: return p.log_start;
    case ResetMode::kLatest: return p.log_end;
    case ResetMode::kOffset: target = spec.value; break;
    case ResetMode::kShiftBy:
      if (!p.committed) {
        return Status::InvalidArgument("cannot shift it: the group has no committed offset there");
      }
      target = *p.committed + spec.value;
      break;
    case ResetMode::kDateTime:
      // No message at or after the time: the end, where the next one lands.
      return p.at_time.value_or(p.log_end);
  }
  return std::clamp(target, p.log_start, std::max(p.log_start, p.log_end));
}

namespace {

// Reads exactly `digits` decimal digits at `*pos`.
bool ReadNumber(std::string_view s, size_t* pos, size_t digits, int* out) {
  if (*pos + digits > s.size()) return false;
  const char* begin = s.data() + *pos;
  auto [end, ec] = std::from_chars(begin, begin + digits, *out);
  if (ec != std::errc() || end != begin + digits) return false;
  *pos += digits;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

Result<int64_t> ParseDateTime(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(fmt::format(
        "bad date-time '{}': expected YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM]", text));
  };
  std::tm tm{};
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadNumber(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadNumber(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadNumber(text, &pos, 2, &day) || !Expect(text, &pos, 'T') ||
      !ReadNumber(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadNumber(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadNumber(text, &pos, 2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return bad();
  }
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis += (text[pos] - '0') * scale;  // Finer digits are dropped.
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t seconds = 0;
  if (pos == text.size()) {
    tm.tm_isdst = -1;  // Local time: let the zone rules decide.
    seconds = static_cast<int64_t>(std::mktime(&tm));
  } else {
    int64_t zone = 0;  // Seconds east of UTC.
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int sign = text[pos] == '+' ? 1 : -1;
      ++pos;
      int zh = 0, zm = 0;
      if (!ReadNumber(text, &pos, 2, &zh)) return bad();
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (!ReadNumber(text, &pos, 2, &zm) || pos != text.size() || zh > 23 || zm > 59) {
        return bad();
      }
      zone = sign * (zh * 3600 + zm * 60);
    } else {
      return bad();
    }
    seconds = static_cast<int64_t>(timegm(&tm)) - zone;
  }
  return seconds * 1000 + millis;
}

}  // namespace sluice::tools
