// How `sluice perf` shows results: a two-column table for people, or one JSON
// object (one line) for scripts; and the once-a-second progress line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/perf_stats.h"

namespace sluice::tools {

// An ordered list of result fields, each with a JSON key and a table label.
class PerfReport {
 public:
  void Text(std::string key, std::string label, std::string value);
  void Int(std::string key, std::string label, int64_t value, std::string unit = "");
  // A setting where -1 means "not set": the table says `unset_text` instead.
  void Setting(std::string key, std::string label, int64_t value, std::string unset_text);
  void Real(std::string key, std::string label, double value, int decimals,
            std::string unit = "");
  // As {"p50":..,"p99":..,"p999":..,"max":..,"mean":..,"count":..} in ms.
  void Latency(std::string key, std::string label, const LatencySummary& s);
  // Table-only line (no JSON field), e.g. a rate with its two units.
  void Note(std::string label, std::string value);
  // The rate of `messages` of `bytes` in `elapsed` seconds: JSON msgs_per_s
  // and mb_per_s, and a "throughput" line with both.
  void Rate(double messages, double bytes, double elapsed);

  std::string Json() const;   // One line, no trailing newline.
  std::string Table() const;  // Lines "label   value".

 private:
  struct Field {
    std::string key;    // Empty: table only.
    std::string label;  // Empty: JSON only.
    std::string json;
    std::string text;
  };
  std::vector<Field> fields_;
};

// Escapes a string for a JSON string literal (quotes included).
std::string JsonString(std::string_view s);

// Prints at most once a second to stderr: elapsed, count, interval rate and,
// if given, the interval's latency; rewrites one line on a terminal, one line
// per second otherwise. Call Tick() from one thread.
class ProgressLine {
 public:
  ProgressLine(bool enabled, std::string what);
  // `window` (may be null) holds the latencies since the last print and is
  // reset when a line is printed.
  void Tick(PerfClock::time_point now, uint64_t messages, uint64_t bytes,
            LatencyHistogram* window);
  void Finish();  // Ends a terminal's rewritten line.

 private:
  bool enabled_;
  bool tty_;
  std::string what_;
  bool printed_ = false;
  PerfClock::time_point start_;
  PerfClock::time_point last_;
  uint64_t last_messages_ = 0;
  uint64_t last_bytes_ = 0;
};

}  // namespace sluice::tools
