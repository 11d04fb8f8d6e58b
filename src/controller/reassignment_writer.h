// The controller's write of one partition's replica set (RS, adding,
// removing; controller/reassignment.h) into /brokers/topics/<topic>.
//
// Other brokers write that znode too (CreatePartitions adds partitions), so
// this is a read-modify-write conditional on the version read, in one
// transaction behind `guard` (the controller's epoch check), so a deposed
// controller's write is refused. Blocking: a few ZooKeeper round trips.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "controller/reassignment.h"
#include "zk/zk_client.h"

namespace sluice::controller {

// Sets `partition`'s entries of the topic znode to `rs` (an empty adding or
// removing list removes the partition from that map). Retries a concurrent
// change of the znode up to 5 times. kNotFound: no such topic or partition
// in the znode; kIOError: ZooKeeper failed, or the transaction kept failing
// (a failing `guard` looks the same: the caller checks whether it was
// deposed).
Status WriteReplicaSet(zk::ZkClient& zk, const zk::ZkOp& guard, const std::string& topic,
                       int32_t partition, const ReplicaSet& rs);

}  // namespace sluice::controller
