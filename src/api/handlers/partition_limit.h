// The code CreateTopics and CreatePartitions answer when the partitions
// asked for would take the broker past sluice.broker.max.partitions.
#pragma once

#include "protocol/error_code.h"

namespace sluice::api {

// POLICY_VIOLATION ("Request parameters do not satisfy the configured
// policy"): the request is valid Kafka and the same count may succeed on a
// bigger broker; what refuses it is a limit the operator configured. That
// is the code Kafka gives when create.topic.policy refuses a topic, and the
// one partition-limit policies for Kafka use, so clients (Java's
// PolicyViolationException, librdkafka's ERR_POLICY_VIOLATION) show it as a
// refusal with the broker's message rather than a fault. The others fit
// worse: INVALID_PARTITIONS says the count itself is invalid (below 1, or
// not more than the topic has), THROTTLING_QUOTA_EXCEEDED invites a retry
// that cannot succeed, UNKNOWN_SERVER_ERROR is a server fault.
inline protocol::ErrorCode PartitionLimitError() { return protocol::ErrorCode::POLICY_VIOLATION; }

}  // namespace sluice::api
