// ClusterView: the brokers a client is told about and which one is the
// controller (Metadata, DescribeCluster).
//
// A single node has no view (BrokerServices::cluster_view is null): the
// cluster is this broker, its own controller. A broker that joined a
// ZooKeeper cluster answers from the brokers registered there and the
// controller it last saw elected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::api {

struct BrokerEndpoint {
  int32_t id = -1;
  std::string host;
  int32_t port = -1;
  std::optional<std::string> rack;
};

struct ClusterState {
  std::vector<BrokerEndpoint> brokers;  // ascending id
  int32_t controller_id = -1;           // -1: none known
};

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  // Thread-safe and quick: handlers call it on the network shards.
  virtual ClusterState Current() const = 0;
};

}  // namespace sluice::api
