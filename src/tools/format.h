// The consume --format template, as in kcat: literal text with %-placeholders
// and backslash escapes, compiled once and rendered for every message.
//
//   %k key   %v value (also %s)   %K key length   %S value length
//   %t topic %p partition  %o offset  %T timestamp (ms)  %h headers  %% a '%'
//   \n \t \r \0 \\ for the control characters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::tools {

struct HeaderField {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: a null header value.
};

// One consumed message, borrowed from librdkafka for the time of Render().
struct MessageFields {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string_view> key;    // nullopt: a null key.
  std::optional<std::string_view> value;  // nullopt: a null value (tombstone).
  int64_t timestamp_ms = -1;              // -1: the message has none.
  std::vector<HeaderField> headers;
};

// The character that "\<c>" stands for, or nullopt if it is not an escape.
std::optional<char> EscapedChar(char c);

class Format {
 public:
  static Result<Format> Parse(std::string_view spec);

  // Appends the rendering of `m` to `out`. Null keys and values render as
  // nothing, their lengths as -1; headers as "k1=v1,k2=v2" ("k" when null).
  void Render(const MessageFields& m, std::string* out) const;

  // Decoding headers costs a lookup per message; skip it when unused.
  bool uses_headers() const { return uses_headers_; }

 private:
  enum class Field { kLiteral, kKey, kValue, kKeyLength, kValueLength, kTopic,
                     kPartition, kOffset, kTimestamp, kHeaders };
  struct Piece {
    Field field;
    std::string literal;  // Only for kLiteral.
  };

  std::vector<Piece> pieces_;
  bool uses_headers_ = false;
};

}  // namespace sluice::tools
