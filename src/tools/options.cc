#include "tools/options.h"

#include <charconv>

#include <fmt/format.h>

#include "tools/format.h"

namespace sluice::tools {

Result<KeyValue> ParseKeyValue(std::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("expected name=value, got '{}'", arg));
  }
  if (eq == 0) return Status::InvalidArgument(fmt::format("empty name in '{}'", arg));
  return KeyValue{std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

Result<std::vector<KeyValue>> ParseKeyValues(const std::vector<std::string>& args) {
  std::vector<KeyValue> out;
  for (const std::string& a : args) {
    Result<KeyValue> kv = ParseKeyValue(a);
    if (!kv.ok()) return kv.status();
    out.push_back(std::move(kv).value());
  }
  return out;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<StartOffset> ParseStartOffset(std::string_view arg) {
  if (arg == "beginning") return StartOffset{StartOffset::Kind::kBeginning, 0};
  if (arg == "end") return StartOffset{StartOffset::Kind::kEnd, 0};
  std::optional<int64_t> v = ParseInt64(arg);
  if (!v) {
    return Status::InvalidArgument(
        fmt::format("bad offset '{}': expected beginning, end, N or -N", arg));
  }
  if (*v < 0) return StartOffset{StartOffset::Kind::kFromEnd, -*v};
  return StartOffset{StartOffset::Kind::kAbsolute, *v};
}

std::optional<std::pair<std::string_view, std::string_view>> SplitKeyValue(
    std::string_view line, std::string_view separator) {
  if (separator.empty()) return std::nullopt;
  size_t at = line.find(separator);
  if (at == std::string_view::npos) return std::nullopt;
  return std::pair{line.substr(0, at), line.substr(at + separator.size())};
}

Result<std::string> Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    std::optional<char> e = i + 1 < s.size() ? EscapedChar(s[i + 1]) : std::nullopt;
    if (!e) return Status::InvalidArgument(fmt::format("bad escape in '{}'", s));
    out.push_back(*e);
    ++i;
  }
  return out;
}

}  // namespace sluice::tools
