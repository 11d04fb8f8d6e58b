// The part of the consumer protocol's subscription (the metadata a member
// of a "consumer" group sends in JoinGroup) that the coordinator needs: the
// subscribed topics. Layout (every version starts the same way):
//   version int16 | topics int32 count of int16-length strings | ...
// Used by OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC) and offset expiry.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sluice::group {

inline constexpr std::string_view kConsumerProtocolType = "consumer";

// nullopt when the bytes are not a subscription this code can read.
std::optional<std::vector<std::string>> SubscribedTopics(std::span<const uint8_t> metadata);

}  // namespace sluice::group
