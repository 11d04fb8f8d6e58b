// Value types shared by every generated message.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace sluice::protocol {

using Bytes = std::vector<uint8_t>;

// A Kafka UUID (topic ids): 16 bytes, all zero meaning "none".
struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Uuid&) const = default;
};

// A tagged field this build does not know (KIP-482). Kept verbatim so that a
// decoded message re-encodes to the same bytes.
struct TaggedField {
  uint32_t tag = 0;
  Bytes data;
  bool operator==(const TaggedField&) const = default;
};

}  // namespace sluice::protocol
