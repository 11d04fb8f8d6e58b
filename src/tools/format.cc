#include "tools/format.h"

#include <fmt/format.h>

namespace sluice::tools {

std::optional<char> EscapedChar(char c) {
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '0': return '\0';
    case '\\': return '\\';
    default: return std::nullopt;
  }
}

Result<Format> Format::Parse(std::string_view spec) {
  Format f;
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) f.pieces_.push_back({Field::kLiteral, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c != '%' && c != '\\') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 == spec.size()) {
      return Status::InvalidArgument(fmt::format("format ends with a lone '{}'", c));
    }
    char next = spec[++i];
    if (c == '\\') {
      std::optional<char> e = EscapedChar(next);
      if (!e) return Status::InvalidArgument(fmt::format("unknown escape '\\{}' in format", next));
      literal.push_back(*e);
      continue;
    }
    Field field;
    switch (next) {
      case '%': literal.push_back('%'); continue;
      case 'k': field = Field::kKey; break;
      case 'v': case 's': field = Field::kValue; break;
      case 'K': field = Field::kKeyLength; break;
      case 'S': field = Field::kValueLength; break;
      case 't': field = Field::kTopic; break;
      case 'p': field = Field::kPartition; break;
      case 'o': field = Field::kOffset; break;
      case 'T': field = Field::kTimestamp; break;
      case 'h': field = Field::kHeaders; break;
      default:
        return Status::InvalidArgument(fmt::format(
            "unknown placeholder '%{}' in format (known: %k %v %K %S %t %p %o %T %h %%)", next));
    }
    flush_literal();
    if (field == Field::kHeaders) f.uses_headers_ = true;
    f.pieces_.push_back({field, {}});
  }
  flush_literal();
  return f;
}

namespace {

void AppendLength(const std::optional<std::string_view>& s, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "{}", s ? static_cast<int64_t>(s->size()) : -1);
}

}  // namespace

void Format::Render(const MessageFields& m, std::string* out) const {
  auto append = [out](auto v) { fmt::format_to(std::back_inserter(*out), "{}", v); };
  for (const Piece& p : pieces_) {
    switch (p.field) {
      case Field::kLiteral: out->append(p.literal); break;
      case Field::kKey: if (m.key) out->append(*m.key); break;
      case Field::kValue: if (m.value) out->append(*m.value); break;
      case Field::kKeyLength: AppendLength(m.key, out); break;
      case Field::kValueLength: AppendLength(m.value, out); break;
      case Field::kTopic: out->append(m.topic); break;
      case Field::kPartition: append(m.partition); break;
      case Field::kOffset: append(m.offset); break;
      case Field::kTimestamp: append(m.timestamp_ms); break;
      case Field::kHeaders:
        for (size_t i = 0; i < m.headers.size(); ++i) {
          if (i > 0) out->push_back(',');
          out->append(m.headers[i].key);
          if (m.headers[i].value) {
            out->push_back('=');
            out->append(*m.headers[i].value);
          }
        }
        break;
    }
  }
}

}  // namespace sluice::tools
