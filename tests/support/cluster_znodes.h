// What tests of a ZooKeeper cluster read back from ZooKeeper: the live
// brokers, the controller and a partition's state, as the brokers wrote
// them (Kafka's znode layout, zk/znodes.h).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {

// The ids under /brokers/ids (empty if it cannot be read).
inline std::set<int32_t> LiveBrokerIds(zk::ZkClient& zk) {
  std::set<int32_t> out;
  auto children = zk.GetChildren(zk::kBrokerIdsPath);
  if (children.ok()) {
    for (const std::string& c : *children) out.insert(std::stoi(c));
  }
  return out;
}

// The broker in /controller; -1 when there is none.
inline int32_t ControllerId(zk::ZkClient& zk) {
  auto node = zk.Get(zk::kControllerPath);
  if (!node.ok()) return -1;
  auto c = zk::DecodeController(node->data);
  return c.ok() ? c->broker_id : -1;
}

// /brokers/topics/<topic>/partitions/<p>/state; nullopt when missing.
inline std::optional<zk::PartitionState> ReadPartitionState(zk::ZkClient& zk,
                                                            const std::string& topic, int32_t p) {
  auto node = zk.Get(zk::PartitionStatePath(topic, p));
  if (!node.ok()) return std::nullopt;
  auto s = zk::DecodePartitionState(node->data);
  return s.ok() ? std::optional(*s) : std::nullopt;
}

}  // namespace sluice::testing
