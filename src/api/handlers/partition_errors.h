// The Kafka error codes for what a partition answers, decided in one place
// for every handler: the KIP-320 leader-epoch check and the mapping of a
// storage Status to Kafka's codes, so every API fences the same way.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "cluster/partition.h"
#include "protocol/error_code.h"

namespace sluice::api {

// NOT_LEADER_OR_FOLLOWER when this replica does not lead (LeadershipError);
// then NONE when the request's current_leader_epoch is absent (-1) or
// matches; FENCED_LEADER_EPOCH when older, UNKNOWN_LEADER_EPOCH when newer.
protocol::ErrorCode LeaderEpochError(const cluster::Partition& partition,
                                     int32_t current_leader_epoch);

// A failed append or read: INVALID_RECORD for a batch the log refuses,
// CORRUPT_MESSAGE for corrupt data, OFFSET_OUT_OF_RANGE for an offset
// outside the log, NOT_LEADER_OR_FOLLOWER when this replica does not lead,
// KAFKA_STORAGE_ERROR for everything else (I/O, a failed log).
// REQUIRES: !s.ok().
protocol::ErrorCode StorageError(const Status& s);

// What a request for `partition`'s data meets before any epoch or offset
// check: NOT_LEADER_OR_FOLLOWER unless this replica leads it (a follower
// serves only its leader's replication, which does not come here).
protocol::ErrorCode LeadershipError(const cluster::Partition& partition);

}  // namespace sluice::api
