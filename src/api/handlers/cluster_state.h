// The brokers and controller that Metadata and DescribeCluster report.
#pragma once

#include <cstdint>
#include <string_view>

#include "api/broker_services.h"
#include "api/cluster_view.h"
#include "protocol/error_code.h"

namespace sluice::api {

// From the cluster view; on a single node, this broker alone (with its
// broker.rack, if set), as its own controller.
ClusterState CurrentClusterState(const BrokerServices& services);

// Whether `topic`-`partition` exists: in the cluster's metadata (a cluster,
// wherever its replicas are), or among this broker's own partitions (a
// single node). For APIs that name partitions without serving their data
// (OffsetCommit, OffsetDelete).
bool PartitionExists(const BrokerServices& services, std::string_view topic, int32_t partition);

// What a request for a partition this broker does not hold answers:
// NOT_LEADER_OR_FOLLOWER when it exists elsewhere in the cluster (the
// client refreshes its metadata and goes to the leader), else
// UNKNOWN_TOPIC_OR_PARTITION.
protocol::ErrorCode MissingPartitionError(const BrokerServices& services, std::string_view topic,
                                          int32_t partition);

}  // namespace sluice::api
