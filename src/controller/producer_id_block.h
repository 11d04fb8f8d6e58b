// Producer id blocks for a cluster: every broker answers InitProducerId, so
// ids come from one sequence in ZooKeeper (/latest_producer_id_block, as in
// Kafka's ZooKeeper mode): a broker reserves the block after the last one
// with a conditional write on the node's version, retrying when another
// broker won the race.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "zk/zk_client.h"

namespace sluice::controller {

// Reserves the next `block_size` ids for `broker_id`; returns the first.
// Blocks on ZooKeeper.
Result<int64_t> ReserveProducerIdBlock(zk::ZkClient& zk, int32_t broker_id, int64_t block_size);

}  // namespace sluice::controller
