#include "group/consumer_protocol.h"

#include "protocol/wire/reader.h"

namespace sluice::group {

std::optional<std::vector<std::string>> SubscribedTopics(std::span<const uint8_t> metadata) {
  protocol::Reader in(metadata);
  in.SetRoot("ConsumerProtocolSubscription");
  int16_t version = 0;
  int32_t count = 0;
  if (!in.ReadInt16(&version).ok() || version < 0 || !in.ReadInt32(&count).ok()) {
    return std::nullopt;
  }
  // Each topic name takes at least its 2-byte length.
  if (count < 0 || static_cast<size_t>(count) > in.remaining() / 2) return std::nullopt;
  std::vector<std::string> topics(static_cast<size_t>(count));
  for (std::string& topic : topics) {
    if (!in.ReadString(&topic, /*compact=*/false).ok()) return std::nullopt;
  }
  return topics;
}

}  // namespace sluice::group
