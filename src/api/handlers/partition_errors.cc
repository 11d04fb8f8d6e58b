#include "api/handlers/partition_errors.h"

namespace sluice::api {

using protocol::ErrorCode;

ErrorCode LeaderEpochError(const cluster::Partition& partition, int32_t current_leader_epoch) {
  if (ErrorCode e = LeadershipError(partition); e != ErrorCode::NONE) return e;
  switch (partition.CheckLeaderEpoch(current_leader_epoch)) {
    case cluster::Partition::EpochCheck::kOk: return ErrorCode::NONE;
    case cluster::Partition::EpochCheck::kFenced: return ErrorCode::FENCED_LEADER_EPOCH;
    case cluster::Partition::EpochCheck::kUnknown: return ErrorCode::UNKNOWN_LEADER_EPOCH;
  }
  return ErrorCode::UNKNOWN_SERVER_ERROR;
}

ErrorCode StorageError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return ErrorCode::INVALID_RECORD;
    case StatusCode::kCorruption: return ErrorCode::CORRUPT_MESSAGE;
    case StatusCode::kOutOfRange: return ErrorCode::OFFSET_OUT_OF_RANGE;
    case StatusCode::kNotLeader: return ErrorCode::NOT_LEADER_OR_FOLLOWER;
    default: return ErrorCode::KAFKA_STORAGE_ERROR;
  }
}

ErrorCode LeadershipError(const cluster::Partition& partition) {
  return partition.is_leader() ? ErrorCode::NONE : ErrorCode::NOT_LEADER_OR_FOLLOWER;
}

}  // namespace sluice::api
