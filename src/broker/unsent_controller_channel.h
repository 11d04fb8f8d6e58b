// UnsentControllerChannel: the ControllerChannel of a controller that has no
// way to reach the brokers yet. It logs each request at debug level and
// drops it.
//
// Temporary: the controller's decisions are written to ZooKeeper, but no
// broker hears of them until the network channel (src/interbroker) is set
// with ClusterMembership::SetControllerChannel. Until then the partition
// states in ZooKeeper are right and no broker acts on them.
//
// Threads: called on the controller's loop; keeps no state.
#pragma once

#include <cstdint>
#include <vector>

#include "controller/controller_channel.h"

namespace sluice::broker {

class UnsentControllerChannel final : public controller::ControllerChannel {
 public:
  void SendLeaderAndIsr(int32_t broker_id, controller::LeaderAndIsrRequest request) override;
  void SendUpdateMetadata(std::vector<int32_t> broker_ids,
                          controller::UpdateMetadataRequest request) override;
  void SendStopReplica(int32_t broker_id, controller::StopReplicaRequest request) override;
};

}  // namespace sluice::broker
