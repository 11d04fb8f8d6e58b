// One topic of a cluster as Metadata describes it, from this broker's
// metadata cache (the controller's UpdateMetadata) and the brokers it lists.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "cluster/metadata_cache.h"
#include "protocol/generated/metadata.h"

namespace sluice::api {

// Each partition's leader, leader epoch, replicas, ISR and offline replicas.
// A partition without a leader, or whose leader is not in `live` (the
// brokers registered in ZooKeeper, as this broker's watch last saw them),
// has leader -1 and LEADER_NOT_AVAILABLE, as Kafka answers for a leader
// that is not alive. Why it matters: this broker's watch usually sees a
// broker's registration go before the controller's UpdateMetadata names
// the new leaders; answering the dead broker in between sends a client that
// already found the new leader back to the dead one (librdkafka 2.0 does
// not compare leader epochs), where it may stay.
protocol::MetadataResponse::MetadataResponseTopic DescribeClusterTopic(
    const std::string& name, const cluster::TopicMetadata& topic, const std::set<int32_t>& live);

}  // namespace sluice::api
