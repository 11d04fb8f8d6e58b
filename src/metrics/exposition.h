// Helpers for the Prometheus text exposition format, version 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::metrics {

// The Content-Type a scrape response must carry.
inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(std::string_view name);

// Appends `value` with `\`, `"` and newline escaped, as a label value needs.
void AppendEscapedLabelValue(std::string* out, std::string_view value);
// Appends `text` with `\` and newline escaped, as HELP text needs.
void AppendEscapedHelp(std::string* out, std::string_view text);

// Appends a sample value: integers exactly, doubles in the shortest form that
// reads back identically, infinities as +Inf/-Inf and NaN as NaN.
void AppendValue(std::string* out, double value);
void AppendValue(std::string* out, uint64_t value);

// Appends `{n1="v1",n2="v2"}` (nothing for no labels); `extra_name` /
// `extra_value`, when extra_name is non-empty, add one more label (`le`).
void AppendLabels(std::string* out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {});

}  // namespace sluice::metrics
