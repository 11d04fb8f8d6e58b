#include "tools/perf_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace sluice::tools {

namespace {

// JSON has no NaN or infinity; a rate over zero time is reported as 0.
std::string JsonNumber(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

void PerfReport::Text(std::string key, std::string label, std::string value) {
  fields_.push_back({std::move(key), std::move(label), JsonString(value), value});
}

void PerfReport::Int(std::string key, std::string label, int64_t value, std::string unit) {
  std::string text = value < 0 ? std::to_string(value) : Thousands(static_cast<uint64_t>(value));
  if (!unit.empty()) text += " " + unit;
  fields_.push_back({std::move(key), std::move(label), std::to_string(value), std::move(text)});
}

void PerfReport::Setting(std::string key, std::string label, int64_t value,
                         std::string unset_text) {
  fields_.push_back({std::move(key), std::move(label), std::to_string(value),
                     value < 0 ? std::move(unset_text) : Thousands(static_cast<uint64_t>(value))});
}

void PerfReport::Real(std::string key, std::string label, double value, int decimals,
                      std::string unit) {
  std::string text = JsonNumber(value, decimals);
  if (!unit.empty()) text += " " + unit;
  fields_.push_back(
      {std::move(key), std::move(label), JsonNumber(value, decimals), std::move(text)});
}

void PerfReport::Latency(std::string key, std::string label, const LatencySummary& s) {
  std::string json = fmt::format(
      "{{\"p50\":{},\"p99\":{},\"p999\":{},\"max\":{},\"mean\":{},\"count\":{}}}",
      JsonNumber(s.p50_ms, 3), JsonNumber(s.p99_ms, 3), JsonNumber(s.p999_ms, 3),
      JsonNumber(s.max_ms, 3), JsonNumber(s.mean_ms, 3), s.count);
  std::string text =
      s.count == 0 ? "(none)"
                   : fmt::format("p50 {:.2f}  p99 {:.2f}  p99.9 {:.2f}  max {:.2f}  mean {:.2f} ms",
                                 s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms, s.mean_ms);
  fields_.push_back({std::move(key), std::move(label), std::move(json), std::move(text)});
}

void PerfReport::Note(std::string label, std::string value) {
  fields_.push_back({"", std::move(label), "", std::move(value)});
}

void PerfReport::Rate(double messages, double bytes, double elapsed) {
  const double msgs_per_s = elapsed > 0 ? messages / elapsed : 0;
  const double mb_per_s = elapsed > 0 ? bytes / elapsed / 1e6 : 0;
  Real("msgs_per_s", "", msgs_per_s, 1);
  Real("mb_per_s", "", mb_per_s, 2);
  Note("throughput",
       fmt::format("{} msg/s  {:.2f} MB/s", Thousands(static_cast<uint64_t>(msgs_per_s)), mb_per_s));
}

std::string PerfReport::Json() const {
  std::string out = "{";
  bool first = true;
  for (const Field& f : fields_) {
    if (f.key.empty()) continue;
    if (!first) out += ",";
    first = false;
    out += JsonString(f.key) + ":" + f.json;
  }
  return out + "}";
}

std::string PerfReport::Table() const {
  size_t width = 0;
  for (const Field& f : fields_) width = std::max(width, f.label.size());
  std::string out;
  for (const Field& f : fields_) {
    if (f.label.empty()) continue;
    out += fmt::format("{:<{}}  {}\n", f.label, width, f.text);
  }
  return out;
}

ProgressLine::ProgressLine(bool enabled, std::string what)
    : enabled_(enabled), tty_(::isatty(STDERR_FILENO) == 1), what_(std::move(what)) {
  start_ = last_ = PerfClock::now();
}

void ProgressLine::Tick(PerfClock::time_point now, uint64_t messages, uint64_t bytes,
                        LatencyHistogram* window) {
  if (now - last_ < std::chrono::seconds(1)) return;
  double interval = std::chrono::duration<double>(now - last_).count();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (enabled_) {
    std::string line = fmt::format(
        "{:6.1f} s  {} {:>13}  {:>10.0f} msg/s  {:7.1f} MB/s", elapsed, what_,
        Thousands(messages), static_cast<double>(messages - last_messages_) / interval,
        static_cast<double>(bytes - last_bytes_) / interval / 1e6);
    if (window != nullptr && window->count() > 0) {
      LatencySummary s = Summarize(*window);
      line += fmt::format("  latency p50 {:.2f} p99 {:.2f} max {:.2f} ms", s.p50_ms, s.p99_ms,
                          s.max_ms);
    }
    std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", line.c_str());
    std::fflush(stderr);
    printed_ = true;
  }
  if (window != nullptr) window->Reset();
  last_ = now;
  last_messages_ = messages;
  last_bytes_ = bytes;
}

void ProgressLine::Finish() {
  if (enabled_ && tty_ && printed_) std::fputc('\n', stderr);
  printed_ = false;
}

}  // namespace sluice::tools
