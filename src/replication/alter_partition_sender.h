// AlterPartitionSender: how a partition leader asks the controller to
// change an ISR (AlterPartition, KIP-497), over the Kafka protocol.
//
// Used by ReplicaManager's ISR thread (ReplicaManagerOptions::alter_partition).
// It keeps one connection to the controller, made anew when the controller
// moves or the connection breaks. Not thread-safe: one caller thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/status.h"
#include "replication/replica_fetcher.h"
#include "replication/replica_manager.h"
#include "rpc/connection.h"

namespace sluice::replication {

class AlterPartitionSender {
 public:
  // `controller`: where the controller is now (nullopt: none known).
  AlterPartitionSender(int32_t broker_id,
                       std::function<std::optional<LeaderEndpoint>()> controller,
                       std::chrono::milliseconds timeout);

  // One request for all `changes`; the answers in the same order.
  // Unavailable-style errors (no controller, connection lost) as a Status.
  Result<std::vector<IsrChangeResult>> Send(const std::vector<IsrChange>& changes);

 private:
  const int32_t broker_id_;
  const std::function<std::optional<LeaderEndpoint>()> controller_;
  const std::chrono::milliseconds timeout_;
  std::optional<LeaderEndpoint> connected_to_;
  std::unique_ptr<rpc::Connection> conn_;
};

}  // namespace sluice::replication
