// Parsing of Kafka listener lists: "PLAINTEXT://127.0.0.1:9092,EXTERNAL://:9093".
// A listener name maps to a security protocol through
// listener.security.protocol.map; Sluice serves PLAINTEXT only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::config {

struct Listener {
  std::string name;               // e.g. "PLAINTEXT"
  std::string security_protocol;  // From the protocol map.
  std::string host;               // Empty: all interfaces ("PLAINTEXT://:9092").
  uint16_t port = 0;

  std::string ToString() const;   // NAME://host:port, IPv6 hosts in brackets.
};

// Parses "a:b,c:d" (listener.security.protocol.map).
Result<std::vector<std::pair<std::string, std::string>>> ParseProtocolMap(std::string_view text);
// Parses a listener list without looking at the protocol map
// (security_protocol left empty); names must be unique.
Result<std::vector<Listener>> ParseListenerSyntax(std::string_view text);
// Parses a listener list; names must be unique and in `protocol_map`.
Result<std::vector<Listener>> ParseListeners(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& protocol_map);

}  // namespace sluice::config
