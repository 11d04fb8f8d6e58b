// The replication throttle of a partition move, set and cleared the way
// Kafka's kafka-reassign-partitions.sh does (--throttle, then --verify):
//   - on the topic, leader.replication.throttled.replicas gains
//     "<partition>:<broker>" for each current replica (they send the copy)
//     and follower.replication.throttled.replicas for each replica being
//     added (it fetches the copy);
//   - on every broker of the move, leader.replication.throttled.rate and
//     follower.replication.throttled.rate become the rate (dynamic broker
//     configs, each sent to its own broker).
// Clearing removes the two topic keys and, on every broker, the two rates.
// librdkafka 2.0 has no IncrementalAlterConfigs, so the requests go with
// rpc::Connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/kafka_client.h"

namespace sluice::tools {

CommandStatus SetReassignThrottle(const GlobalOptions& global, const rd_kafka_metadata_t& md,
                                  const std::string& topic, int32_t partition,
                                  const std::vector<int32_t>& current,
                                  const std::vector<int32_t>& target, int64_t bytes_per_second);

CommandStatus ClearReassignThrottle(const GlobalOptions& global, const rd_kafka_metadata_t& md,
                                    const std::string& topic);

}  // namespace sluice::tools
