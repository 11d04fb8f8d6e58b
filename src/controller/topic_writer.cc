#include "controller/topic_writer.h"

#include <set>

#include <fmt/format.h>

#include "controller/config_writer.h"
#include "zk/znodes.h"

namespace sluice::controller {

using zk::ZkCode;

namespace {

// A ZooKeeper failure this code does not interpret (kNotFound and
// kAlreadyExists mean something else to the callers).
Status ZkFailure(const zk::ZkError& e) { return Status::IOError(e.message()); }

Result<bool> NodeExists(zk::ZkClient& zk, const std::string& path) {
  auto stat = zk.Exists(path);
  if (!stat.ok()) return ZkFailure(stat.error());
  return stat->has_value();
}

Status TopicExists(const std::string& topic) {
  return Status::AlreadyExists(fmt::format("topic '{}' already exists", topic));
}

}  // namespace

Status CreateTopicZnodes(zk::ZkClient& zk, const std::string& topic,
                         const ReplicaAssignment& assignment,
                         const std::map<std::string, std::string>& config, const TopicUuid& id) {
  for (const char* parent : {zk::kTopicsPath, zk::kTopicConfigsPath}) {
    zk::ZkError e = zk.CreateRecursive(parent);
    if (!e.ok()) return ZkFailure(e);
  }
  zk::TopicAssignment a;
  a.topic_id = TopicUuidToString(id);
  a.partitions = assignment;
  const std::string topic_path = zk::TopicPath(topic);
  const std::string config_path = zk::TopicConfigPath(topic);
  const zk::ZkOp create_topic = zk::ZkOp::Create(topic_path, zk::EncodeTopicAssignment(a));
  const std::string config_data = zk::EncodeTopicConfig(config);

  zk::ZkError e = zk.Multi({zk::ZkOp::Create(config_path, config_data), create_topic});
  if (e.ok()) return Status::Ok();
  if (e.code() != ZkCode::kNodeExists) return ZkFailure(e);
  // Which node was there? The topic: it exists. Only its config: left behind
  // (set for a topic that did not exist yet, or by an interrupted deletion);
  // overwrite it, conditional on the version seen, with the topic's creation.
  Result<bool> topic_exists = NodeExists(zk, topic_path);
  if (!topic_exists.ok()) return topic_exists.status();
  if (*topic_exists) return TopicExists(topic);
  auto stale = zk.Exists(config_path);
  if (!stale.ok()) return ZkFailure(stale.error());
  std::vector<zk::ZkOp> ops;
  if (stale->has_value()) {
    ops.push_back(zk::ZkOp::Set(config_path, config_data, (*stale)->version));
  } else {
    ops.push_back(zk::ZkOp::Create(config_path, config_data));
  }
  ops.push_back(create_topic);
  e = zk.Multi(ops);
  if (e.ok()) return Status::Ok();
  if (e.code() == ZkCode::kNodeExists || e.code() == ZkCode::kBadVersion) {
    // Another broker is creating the same topic right now.
    return TopicExists(topic);
  }
  return ZkFailure(e);
}

Result<AddPartitionsResult> AddPartitions(
    zk::ZkClient& zk, const std::string& topic, int32_t total_partitions,
    const std::vector<BrokerPlacement>& live_brokers,
    const std::optional<ReplicaAssignment>& explicit_assignment, bool validate_only) {
  const std::string path = zk::TopicPath(topic);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto node = zk.Get(path);
    if (node.code() == ZkCode::kNoNode) {
      return Status::NotFound(fmt::format("topic '{}' does not exist", topic));
    }
    if (!node.ok()) return ZkFailure(node.error());
    Result<bool> deleting = NodeExists(zk, zk::DeleteTopicPath(topic));
    if (!deleting.ok()) return deleting.status();
    if (*deleting) {
      return Status::Aborted(fmt::format("topic '{}' is queued for deletion", topic));
    }
    auto current = zk::DecodeTopicAssignment(node->data);
    if (!current.ok()) return Status::Corruption(current.status().message());
    const int32_t have = static_cast<int32_t>(current->partitions.size());
    if (total_partitions <= have) {
      return Status::OutOfRange(fmt::format(
          "topic '{}' currently has {} partitions, {} would not be an increase", topic, have,
          total_partitions));
    }
    ReplicaAssignment added;
    if (explicit_assignment) {
      std::set<int32_t> live;
      for (const BrokerPlacement& b : live_brokers) live.insert(b.id);
      const auto p0 = current->partitions.find(0);
      const int32_t factor =
          p0 == current->partitions.end() ? -1 : static_cast<int32_t>(p0->second.size());
      if (explicit_assignment->size() != static_cast<size_t>(total_partitions - have)) {
        return Status::InvalidArgument(fmt::format(
            "{} partitions are added but the assignment has {}", total_partitions - have,
            explicit_assignment->size()));
      }
      SLUICE_RETURN_IF_ERROR(ValidateExplicitAssignment(*explicit_assignment, live, have, factor));
      added = *explicit_assignment;
    } else {
      auto assigned = AssignAddedPartitions(live_brokers, current->partitions, total_partitions);
      if (!assigned.ok()) return assigned.status();
      added = std::move(*assigned);
    }
    if (validate_only) return AddPartitionsResult{std::move(added), node->stat.version};
    zk::TopicAssignment next = *current;
    for (const auto& [p, replicas] : added) next.partitions[p] = replicas;
    auto written = zk.Set(path, zk::EncodeTopicAssignment(next), node->stat.version);
    if (written.ok()) return AddPartitionsResult{std::move(added), written->version};
    if (written.code() == ZkCode::kNoNode) {
      return Status::NotFound(fmt::format("topic '{}' does not exist", topic));
    }
    if (written.code() != ZkCode::kBadVersion) return ZkFailure(written.error());
    // Another writer changed the assignment meanwhile: decide again on it.
  }
  return Status::IOError(fmt::format(
      "the assignment of topic '{}' kept changing while partitions were added", topic));
}

Status RequestTopicDeletion(zk::ZkClient& zk, const std::string& topic) {
  Result<bool> exists = NodeExists(zk, zk::TopicPath(topic));
  if (!exists.ok()) return exists.status();
  if (!*exists) return Status::NotFound(fmt::format("topic '{}' does not exist", topic));
  zk::ZkError parent = zk.CreateRecursive(zk::kDeleteTopicsPath);
  if (!parent.ok()) return ZkFailure(parent);
  auto made = zk.Create(zk::DeleteTopicPath(topic), "", zk::CreateMode::kPersistent);
  if (made.ok() || made.code() == ZkCode::kNodeExists) return Status::Ok();
  return ZkFailure(made.error());
}

Result<std::map<std::string, std::string>> ChangeTopicConfig(
    zk::ZkClient& zk, const std::string& topic,
    const std::function<Status(std::map<std::string, std::string>&)>& edit, bool validate_only) {
  return ChangeEntityConfig(
      zk, "topics", topic,
      [&]() -> Status {
        Result<bool> exists = NodeExists(zk, zk::TopicPath(topic));
        if (!exists.ok()) return exists.status();
        if (!*exists) return Status::NotFound(fmt::format("topic '{}' does not exist", topic));
        return Status::Ok();
      },
      edit, validate_only);
}

}  // namespace sluice::controller
