#include "controller/topic_id.h"

#include <random>

#include "base/base64url.h"

namespace sluice::controller {

TopicUuid NewTopicUuid(const std::function<uint64_t()>& random) {
  std::random_device device;
  auto next = [&]() -> uint64_t {
    if (random) return random();
    return (static_cast<uint64_t>(device()) << 32) | device();
  };
  while (true) {
    TopicUuid id{};
    for (int half = 0; half < 2; ++half) {
      const uint64_t bits = next();
      for (int i = 0; i < 8; ++i) id[static_cast<size_t>(half * 8 + i)] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    }
    id[6] = static_cast<uint8_t>((id[6] & 0x0F) | 0x40);  // version 4
    id[8] = static_cast<uint8_t>((id[8] & 0x3F) | 0x80);  // IETF variant
    if (TopicUuidToString(id)[0] != '-') return id;
  }
}

std::string TopicUuidToString(const TopicUuid& id) { return Base64UrlEncode(id); }

std::optional<TopicUuid> ParseTopicUuid(std::string_view text) {
  if (text.size() != 22) return std::nullopt;
  TopicUuid id{};
  uint32_t acc = 0;
  int bits = 0;
  size_t at = 0;
  for (char c : text) {
    const int d = Base64UrlDigit(c);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      id[at++] = static_cast<uint8_t>(acc >> (bits - 8));
      bits -= 8;
    }
  }
  // The last character's 4 low bits are padding and must be zero.
  if ((acc & 0x0F) != 0) return std::nullopt;
  return id;
}

}  // namespace sluice::controller
