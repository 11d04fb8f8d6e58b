#include "config/properties.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace sluice::config {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Resolves escapes in one logical line's key or value.
Result<std::string> Unescape(std::string_view s, int line) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) break;  // A lone trailing backslash is dropped.
    switch (s[i]) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        if (i + 4 >= s.size()) {
          return Status::InvalidArgument(fmt::format("line {}: malformed \\uxxxx escape", line));
        }
        uint32_t cp = 0;
        for (int k = 1; k <= 4; ++k) {
          const char c = s[i + k];
          cp <<= 4;
          if (c >= '0' && c <= '9') {
            cp |= static_cast<uint32_t>(c - '0');
          } else if (c >= 'a' && c <= 'f') {
            cp |= static_cast<uint32_t>(c - 'a' + 10);
          } else if (c >= 'A' && c <= 'F') {
            cp |= static_cast<uint32_t>(c - 'A' + 10);
          } else {
            return Status::InvalidArgument(
                fmt::format("line {}: malformed \\uxxxx escape", line));
          }
        }
        AppendUtf8(out, cp);
        i += 4;
        break;
      }
      default: out += s[i]; break;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<PropertyEntry>> ParseProperties(std::string_view text) {
  std::vector<PropertyEntry> entries;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    // Assemble one logical line from natural lines.
    std::string logical;
    const int start_line = line_no + 1;
    bool first = true;
    bool comment = false;
    while (pos < text.size()) {
      size_t end = text.find_first_of("\r\n", pos);
      std::string_view natural = text.substr(pos, end == std::string_view::npos ? text.npos
                                                                                : end - pos);
      pos = end == std::string_view::npos ? text.size() : end + 1;
      if (end != std::string_view::npos && text[end] == '\r' && pos < text.size() &&
          text[pos] == '\n') {
        ++pos;
      }
      ++line_no;
      size_t skip = 0;
      while (skip < natural.size() && IsSpace(natural[skip])) ++skip;
      natural.remove_prefix(skip);
      if (first) {
        if (natural.empty()) break;  // Blank line.
        if (natural.front() == '#' || natural.front() == '!') {
          comment = true;  // Comments never continue.
          break;
        }
      }
      first = false;
      size_t backslashes = 0;
      while (backslashes < natural.size() && natural[natural.size() - 1 - backslashes] == '\\') {
        ++backslashes;
      }
      if (backslashes % 2 == 1) {
        logical.append(natural.substr(0, natural.size() - 1));
        continue;
      }
      logical.append(natural);
      break;
    }
    if (comment || logical.empty()) continue;

    // Split key from value: the key ends at an unescaped '=', ':' or space.
    size_t i = 0;
    bool has_separator = false;
    while (i < logical.size()) {
      const char c = logical[i];
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '=' || c == ':') {
        has_separator = true;
        break;
      }
      if (IsSpace(c)) break;
      ++i;
    }
    const size_t key_end = std::min(i, logical.size());
    size_t value_start = key_end;
    if (has_separator) {
      ++value_start;
    } else {
      while (value_start < logical.size() && IsSpace(logical[value_start])) ++value_start;
      if (value_start < logical.size() &&
          (logical[value_start] == '=' || logical[value_start] == ':')) {
        ++value_start;
      }
    }
    while (value_start < logical.size() && IsSpace(logical[value_start])) ++value_start;

    auto key = Unescape(std::string_view(logical).substr(0, key_end), start_line);
    if (!key.ok()) return key.status();
    auto value = Unescape(std::string_view(logical).substr(value_start), start_line);
    if (!value.ok()) return value.status();
    entries.push_back({std::move(key).value(), std::move(value).value(), start_line});
  }
  return entries;
}

Result<std::vector<PropertyEntry>> ReadPropertiesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("cannot open properties file '{}'", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("cannot read properties file '{}'", path));
  auto parsed = ParseProperties(buffer.str());
  if (!parsed.ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", path, parsed.status().message()));
  }
  return parsed;
}

}  // namespace sluice::config
