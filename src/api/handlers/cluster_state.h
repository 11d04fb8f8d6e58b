// The brokers and controller that Metadata and DescribeCluster report.
#pragma once

#include "api/broker_services.h"
#include "api/cluster_view.h"

namespace sluice::api {

// From the cluster view; on a single node, this broker alone (with its
// broker.rack, if set), as its own controller.
ClusterState CurrentClusterState(const BrokerServices& services);

}  // namespace sluice::api
