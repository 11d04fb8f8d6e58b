// Kafka's rules for topic names, checked before a topic is created (by
// CreateTopics or auto-creation) so an illegal name never reaches the disk.
#pragma once

#include <string_view>

#include "base/status.h"

namespace sluice::cluster {

// Kafka's limit: a partition directory is "<topic>-<partition>", and 249
// leaves room for the partition suffix within a 255-byte file name.
inline constexpr size_t kMaxTopicNameLength = 249;

// OK, or InvalidArgument naming the rule broken: empty, "." or "..", longer
// than 249 characters, or a character outside [a-zA-Z0-9._-].
Status ValidateTopicName(std::string_view name);

// Kafka warns that '.' and '_' collide in metric names ("a.b" vs "a_b");
// returns the name with '.' replaced by '_' for that collision check.
std::string UnifyCollidingChars(std::string_view name);

// The topics the broker keeps for itself, as Kafka lists them (Topic.isInternal).
inline bool IsInternalTopic(std::string_view name) {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

}  // namespace sluice::cluster
