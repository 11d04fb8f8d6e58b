// Hand-written wire bytes for tests that pin a message's layout: WireBytes
// spells out big-endian fixed-width values, strings and small varints, and
// ExpectWire checks that a generated message encodes to exactly those bytes
// and decodes back to itself. (A round trip alone cannot catch a field in the
// wrong place; bytes written from Kafka's schemas can.)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "protocol/wire/reader.h"
#include "protocol/wire/types.h"
#include "protocol/wire/writer.h"

namespace sluice::testing {

// Big-endian bytes of fixed-width values, and strings, written out.
class WireBytes {
 public:
  WireBytes& I8(int8_t v) { return Fixed(static_cast<uint8_t>(v), 1); }
  WireBytes& I16(int16_t v) { return Fixed(static_cast<uint16_t>(v), 2); }
  WireBytes& I32(int32_t v) { return Fixed(static_cast<uint32_t>(v), 4); }
  WireBytes& I64(int64_t v) { return Fixed(static_cast<uint64_t>(v), 8); }
  // Unsigned varints below 128 (counts, lengths and tags here) are one byte.
  WireBytes& U(uint8_t v) { return Raw({v}); }
  WireBytes& Str(const std::string& s) {  // int16 length.
    I16(static_cast<int16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }
  WireBytes& CompactStr(const std::string& s) {  // Length + 1.
    U(static_cast<uint8_t>(s.size() + 1));
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }
  WireBytes& Raw(std::initializer_list<uint8_t> b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  WireBytes& Id(const protocol::Uuid& id) {
    out_.insert(out_.end(), id.bytes.begin(), id.bytes.end());
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  WireBytes& Fixed(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  std::vector<uint8_t> out_;
};

inline protocol::Uuid SomeId() {
  protocol::Uuid id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(0xa0 + i);
  return id;
}

// encode(message) == bytes and decode(bytes) == message.
template <typename T>
void ExpectWire(const T& message, int16_t version, const WireBytes& expected) {
  protocol::Writer w;
  message.Encode(w, version);
  EXPECT_EQ(w.Take(), expected.bytes()) << T::kName << " v" << version;
  protocol::Reader r(expected.bytes());
  T decoded;
  Status s = decoded.Decode(r, version);
  ASSERT_TRUE(s.ok()) << T::kName << " v" << version << ": " << s.ToString();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(decoded == message) << T::kName << " v" << version;
}

}  // namespace sluice::testing
