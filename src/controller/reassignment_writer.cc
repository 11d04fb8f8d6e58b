#include "controller/reassignment_writer.h"

#include <fmt/format.h>

#include "zk/znodes.h"

namespace sluice::controller {

using zk::ZkCode;

Status WriteReplicaSet(zk::ZkClient& zk, const zk::ZkOp& guard, const std::string& topic,
                       int32_t partition, const ReplicaSet& rs) {
  const std::string path = zk::TopicPath(topic);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto node = zk.Get(path);
    if (node.code() == ZkCode::kNoNode) {
      return Status::NotFound(fmt::format("topic '{}' does not exist", topic));
    }
    if (!node.ok()) return Status::IOError(node.error().message());
    auto assignment = zk::DecodeTopicAssignment(node->data);
    if (!assignment.ok()) return Status::Corruption(assignment.status().message());
    if (!assignment->partitions.contains(partition)) {
      return Status::NotFound(fmt::format("topic '{}' has no partition {}", topic, partition));
    }
    assignment->partitions[partition] = rs.replicas;
    for (auto [map, list] : {std::pair{&assignment->adding_replicas, &rs.adding},
                             std::pair{&assignment->removing_replicas, &rs.removing}}) {
      if (list->empty()) {
        map->erase(partition);
      } else {
        (*map)[partition] = *list;
      }
    }
    zk::ZkError e =
        zk.Multi({guard, zk::ZkOp::Set(path, zk::EncodeTopicAssignment(*assignment),
                                       node->stat.version)});
    if (e.ok()) return Status::Ok();
    if (e.code() != ZkCode::kBadVersion) return Status::IOError(e.message());
    // Another writer came between (or the guard failed): read again.
  }
  return Status::IOError(
      fmt::format("the assignment of topic '{}' kept changing while it was written", topic));
}

}  // namespace sluice::controller
