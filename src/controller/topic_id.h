// Topic ids: Kafka's 128-bit topic UUIDs, kept in ZooKeeper as 22 characters
// of URL-safe base64 without padding (what Kafka's Uuid.toString writes into
// /brokers/topics/<topic>), and sent to brokers as the 16 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::controller {

using TopicUuid = std::array<uint8_t, 16>;
// All zero: "no id" (a topic created before ids existed), as Kafka's ZERO_UUID.
inline constexpr TopicUuid kNoTopicUuid{};

// A random version-4 UUID, as Kafka's Uuid.randomUuid: never zero, never one
// whose string starts with '-' (which a command line would take for an
// option). `random` gives 64 random bits a call; nullptr: std::random_device.
TopicUuid NewTopicUuid(const std::function<uint64_t()>& random = nullptr);
std::string TopicUuidToString(const TopicUuid& id);
// nullopt unless `text` is 22 URL-safe base64 characters with zero padding bits.
std::optional<TopicUuid> ParseTopicUuid(std::string_view text);

}  // namespace sluice::controller
