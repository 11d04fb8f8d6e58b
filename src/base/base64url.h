// Unpadded base64url (RFC 4648 section 5), the text form Kafka gives its
// 128-bit ids: cluster ids in meta.properties and topic ids in ZooKeeper.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace sluice {

// `bytes` as base64url without '=' padding (16 bytes: 22 characters).
std::string Base64UrlEncode(std::span<const uint8_t> bytes);

// The 6-bit value of a base64url character; -1 for any other character.
int Base64UrlDigit(char c);

}  // namespace sluice
