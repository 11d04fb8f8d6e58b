#include "broker/unsent_controller_channel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

namespace sluice::broker {

void UnsentControllerChannel::SendLeaderAndIsr(int32_t broker_id,
                                               controller::LeaderAndIsrRequest request) {
  spdlog::debug("controller epoch {}: LeaderAndIsr for broker {} not sent (no channel): {} "
                "partitions{}",
                request.controller_epoch, broker_id, request.partitions.size(),
                request.full ? ", full" : "");
}

void UnsentControllerChannel::SendUpdateMetadata(std::vector<int32_t> broker_ids,
                                                 controller::UpdateMetadataRequest request) {
  spdlog::debug("controller epoch {}: UpdateMetadata for brokers [{}] not sent (no channel): {} "
                "live brokers, {} partitions",
                request.controller_epoch, fmt::join(broker_ids, ","),
                request.live_brokers.size(), request.partitions.size());
}

void UnsentControllerChannel::SendStopReplica(int32_t broker_id,
                                              controller::StopReplicaRequest request) {
  spdlog::debug("controller epoch {}: StopReplica for broker {} not sent (no channel): {} "
                "partitions",
                request.controller_epoch, broker_id, request.partitions.size());
}

}  // namespace sluice::broker
