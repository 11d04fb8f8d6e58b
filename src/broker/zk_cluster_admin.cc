#include "broker/zk_cluster_admin.h"

#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cluster/topic_name.h"
#include "config/topic_config.h"
#include "controller/config_writer.h"
#include "controller/replica_assignment.h"
#include "controller/topic_id.h"
#include "controller/topic_writer.h"
#include "zk/znodes.h"

namespace sluice::broker {
namespace {

using protocol::ErrorCode;

// The most partitions one topic may have: PartitionManager's bound on a
// single node (cluster/partition_manager.cc), kept the same here.
constexpr int32_t kMaxPartitions = 100000;

template <typename Outcome = api::AdminOutcome>
Outcome Fail(ErrorCode code, std::string message) {
  Outcome o;
  o.error = code;
  o.message = std::move(message);
  return o;
}

template <typename Outcome = api::AdminOutcome>
Outcome Leaving() {
  return Fail<Outcome>(ErrorCode::UNKNOWN_SERVER_ERROR,
                       "the broker is leaving the cluster; send the request to another broker");
}

template <typename Outcome = api::AdminOutcome>
Outcome ZkFailed(const std::string& what, const std::string& why) {
  spdlog::warn("{}: ZooKeeper failed: {}", what, why);
  return Fail<Outcome>(ErrorCode::UNKNOWN_SERVER_ERROR,
                       fmt::format("{}: ZooKeeper failed: {}", what, why));
}

std::vector<controller::BrokerPlacement> Placements(
    const std::map<int32_t, zk::BrokerRegistration>& live) {
  std::vector<controller::BrokerPlacement> out;
  for (const auto& [id, registration] : live) out.push_back({id, registration.rack});
  return out;
}

std::set<int32_t> Ids(const std::map<int32_t, zk::BrokerRegistration>& live) {
  std::set<int32_t> out;
  for (const auto& entry : live) out.insert(entry.first);
  return out;
}

// The topics in ZooKeeper (none if /brokers/topics does not exist yet).
zk::ZkResult<std::vector<std::string>> TopicNames(zk::ZkClient& zk) {
  auto names = zk.GetChildren(zk::kTopicsPath);
  if (names.code() == zk::ZkCode::kNoNode) return std::vector<std::string>{};
  return names;
}

// sluice.broker.max.partitions for every broker `adding` places replicas on
// (see the header). `topics`: every topic in ZooKeeper.
template <typename Outcome>
std::optional<Outcome> CheckBrokerLimits(zk::ZkClient& zk, const std::vector<std::string>& topics,
                                         const std::string& topic,
                                         const controller::ReplicaAssignment& adding,
                                         int64_t limit) {
  std::map<int32_t, int64_t> more;
  for (const auto& [p, replicas] : adding) {
    for (int32_t b : replicas) ++more[b];
  }
  std::map<int32_t, int64_t> held;
  for (const std::string& t : topics) {
    auto node = zk.Get(zk::TopicPath(t));
    if (node.code() == zk::ZkCode::kNoNode) continue;  // Deleted meanwhile.
    if (!node.ok()) {
      return ZkFailed<Outcome>(fmt::format("reading topic '{}'", t), node.error().message());
    }
    auto assignment = zk::DecodeTopicAssignment(node->data);
    if (!assignment.ok()) continue;  // Not ours to judge here; the controller complains.
    for (const auto& [p, replicas] : assignment->partitions) {
      for (int32_t b : replicas) {
        if (more.contains(b)) ++held[b];
      }
    }
  }
  for (const auto& [b, n] : more) {
    if (held[b] + n <= limit) continue;
    return Fail<Outcome>(
        ErrorCode::POLICY_VIOLATION,
        fmt::format("{} more partitions for topic '{}' would make {} on broker {}, past its limit "
                    "of {} (sluice.broker.max.partitions); it holds {} now.",
                    n, topic, held[b] + n, b, limit, held[b]));
  }
  return std::nullopt;
}

}  // namespace

api::CreatedTopic ZkClusterAdmin::CreateTopic(const api::NewTopic& t) {
  using Outcome = api::CreatedTopic;
  if (Status s = cluster::ValidateTopicName(t.name); !s.ok()) {
    return Fail<Outcome>(ErrorCode::INVALID_TOPIC_EXCEPTION, s.message());
  }
  // Existence first, as Kafka checks it: a topic that exists is
  // TOPIC_ALREADY_EXISTS whatever else the request says (auto-creation
  // turns that into LEADER_NOT_AVAILABLE, not a replication-factor error
  // from a broker that sees few live brokers right now).
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving<Outcome>();
  const std::string what = fmt::format("creating topic '{}'", t.name);
  auto topics = TopicNames(*zk);
  if (!topics.ok()) return ZkFailed<Outcome>(what, topics.error().message());
  const std::string unified = cluster::UnifyCollidingChars(t.name);
  for (const std::string& other : *topics) {
    if (other == t.name) {
      return Fail<Outcome>(ErrorCode::TOPIC_ALREADY_EXISTS,
                           fmt::format("Topic '{}' already exists.", t.name));
    }
  }
  for (const std::string& other : *topics) {
    if (cluster::UnifyCollidingChars(other) == unified) {
      return Fail<Outcome>(
          ErrorCode::INVALID_TOPIC_EXCEPTION,
          fmt::format("Topic '{}' collides with existing topic '{}' ('.' and '_' are the same in "
                      "metric names)",
                      t.name, other));
    }
  }
  // -1: the broker's default (KIP-464), or the assignment's count.
  int32_t partitions = t.partitions;
  int32_t rf = t.replication_factor;
  if (t.assignment) {
    partitions = static_cast<int32_t>(t.assignment->size());
    rf = t.assignment->empty() ? 0 : static_cast<int32_t>(t.assignment->begin()->second.size());
  } else {
    if (partitions == -1) partitions = static_cast<int32_t>(config_.GetInt("num.partitions"));
    if (rf == -1) rf = static_cast<int32_t>(config_.GetInt("default.replication.factor"));
  }
  if (partitions <= 0) {
    return Fail<Outcome>(ErrorCode::INVALID_PARTITIONS,
                         "Number of partitions must be larger than 0.");
  }
  if (partitions > kMaxPartitions) {
    return Fail<Outcome>(ErrorCode::INVALID_PARTITIONS,
                         fmt::format("number of partitions must be between 1 and {}; got {}",
                                     kMaxPartitions, partitions));
  }
  if (!t.assignment && rf <= 0) {
    return Fail<Outcome>(ErrorCode::INVALID_REPLICATION_FACTOR,
                         "Replication factor must be larger than 0.");
  }
  if (Status s = config::ValidateTopicOverrides(t.configs); !s.ok()) {
    return Fail<Outcome>(ErrorCode::INVALID_CONFIG, s.message());
  }
  if (auto resolved = config::ResolveTopicConfig(config_, t.configs); !resolved.ok()) {
    return Fail<Outcome>(ErrorCode::INVALID_CONFIG, resolved.status().message());
  }

  const std::map<int32_t, zk::BrokerRegistration> live = membership_->LiveBrokers();
  controller::ReplicaAssignment assignment;
  if (t.assignment) {
    Status s = controller::ValidateExplicitAssignment(*t.assignment, Ids(live));
    if (!s.ok()) return Fail<Outcome>(ErrorCode::INVALID_REPLICA_ASSIGNMENT, s.message());
    assignment = *t.assignment;
  } else {
    if (static_cast<size_t>(rf) > live.size()) {
      return Fail<Outcome>(ErrorCode::INVALID_REPLICATION_FACTOR,
                           fmt::format("Replication factor: {} larger than available brokers: {}.",
                                       rf, live.size()));
    }
    auto assigned = controller::AssignReplicas(Placements(live), partitions, rf,
                                               controller::DefaultRandomIndex());
    if (!assigned.ok()) {
      return Fail<Outcome>(assigned.status().code() == StatusCode::kOutOfRange
                               ? ErrorCode::INVALID_PARTITIONS
                               : ErrorCode::INVALID_REPLICATION_FACTOR,
                           assigned.status().message());
    }
    assignment = std::move(assigned).value();
  }

  if (auto refused = CheckBrokerLimits<Outcome>(*zk, *topics, t.name, assignment,
                                                config_.GetInt("sluice.broker.max.partitions"))) {
    return *refused;
  }

  Outcome created;
  created.partitions = partitions;
  created.replication_factor = static_cast<int16_t>(rf);
  if (t.validate_only) return created;

  const controller::TopicUuid id = controller::NewTopicUuid();
  Status s = controller::CreateTopicZnodes(*zk, t.name, assignment, t.configs, id);
  if (s.code() == StatusCode::kAlreadyExists) {
    return Fail<Outcome>(ErrorCode::TOPIC_ALREADY_EXISTS,
                         fmt::format("Topic '{}' already exists.", t.name));
  }
  if (!s.ok()) {
    // A lost connection leaves it open whether the transaction landed: it
    // did if the topic now exists with this request's id.
    auto node = zk->Get(zk::TopicPath(t.name));
    auto written = node.ok() ? zk::DecodeTopicAssignment(node->data)
                             : Result<zk::TopicAssignment>(Status::NotFound(""));
    if (!written.ok() || written->topic_id != controller::TopicUuidToString(id)) {
      return ZkFailed<Outcome>(what, s.message());
    }
  }
  created.topic_id = id;
  spdlog::info("created topic '{}' in ZooKeeper: {} partitions, replication factor {}", t.name,
               partitions, rf);
  return created;
}

api::AdminOutcome ZkClusterAdmin::CreatePartitions(
    const std::string& name, int32_t total,
    const std::optional<std::vector<std::vector<int32_t>>>& assignment, bool validate_only) {
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving();
  const std::string what = fmt::format("adding partitions to topic '{}'", name);
  // The current count first, for the single node's checks and messages;
  // AddPartitions reads it again under its version.
  auto node = zk->Get(zk::TopicPath(name));
  if (node.code() == zk::ZkCode::kNoNode) {
    return Fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                fmt::format("The topic '{}' does not exist.", name));
  }
  if (!node.ok()) return ZkFailed(what, node.error().message());
  auto current = zk::DecodeTopicAssignment(node->data);
  if (!current.ok()) return Fail(ErrorCode::UNKNOWN_SERVER_ERROR, current.status().message());
  const int32_t have = static_cast<int32_t>(current->partitions.size());
  if (total == have) {
    return Fail(ErrorCode::INVALID_PARTITIONS, fmt::format("Topic already has {} partitions.", have));
  }
  if (total < have) {
    return Fail(ErrorCode::INVALID_PARTITIONS,
                fmt::format("Topic currently has {} partitions, which is higher than the "
                            "requested {}.",
                            have, total));
  }
  if (cluster::IsInternalTopic(name)) {
    // As on a single node (create_partitions.cc): a new count would strand
    // every group's committed offsets.
    return Fail(ErrorCode::INVALID_TOPIC_EXCEPTION,
                fmt::format("The partition count of internal topic {} cannot be changed.", name));
  }
  if (total > kMaxPartitions) {
    return Fail(ErrorCode::INVALID_PARTITIONS, fmt::format("at most {} partitions", kMaxPartitions));
  }
  std::optional<controller::ReplicaAssignment> explicit_assignment;
  if (assignment) {
    if (static_cast<int64_t>(assignment->size()) != total - have) {
      return Fail(ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                  fmt::format("Attempted to add {} additional partition(s), but only {} "
                              "assignment(s) were specified.",
                              total - have, assignment->size()));
    }
    explicit_assignment.emplace();
    int32_t p = have;
    for (const std::vector<int32_t>& replicas : *assignment) (*explicit_assignment)[p++] = replicas;
  }

  const std::vector<controller::BrokerPlacement> live = Placements(membership_->LiveBrokers());
  auto map_error = [&](const Status& s) {
    switch (s.code()) {
      case StatusCode::kNotFound:
        return Fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                    fmt::format("The topic '{}' does not exist.", name));
      case StatusCode::kAborted:
        return Fail(ErrorCode::INVALID_TOPIC_EXCEPTION, s.message());
      case StatusCode::kOutOfRange:
        return Fail(ErrorCode::INVALID_PARTITIONS, s.message());
      case StatusCode::kInvalidArgument:
        return Fail(explicit_assignment ? ErrorCode::INVALID_REPLICA_ASSIGNMENT
                                        : ErrorCode::INVALID_REPLICATION_FACTOR,
                    s.message());
      default:
        return ZkFailed(what, s.message());
    }
  };
  // Decided without writing, checked against the limit, then written as
  // decided (an explicit assignment is validated again against the live
  // brokers, which is what makes the written one the checked one).
  auto decided = controller::AddPartitions(*zk, name, total, live, explicit_assignment, true);
  if (!decided.ok()) return map_error(decided.status());
  auto topics = TopicNames(*zk);
  if (!topics.ok()) return ZkFailed(what, topics.error().message());
  if (auto refused = CheckBrokerLimits<api::AdminOutcome>(
          *zk, *topics, name, decided->added, config_.GetInt("sluice.broker.max.partitions"))) {
    return *refused;
  }
  if (validate_only) return {};
  auto added = controller::AddPartitions(*zk, name, total, live, decided->added, false);
  if (!added.ok()) {
    if (added.status().code() == StatusCode::kInvalidArgument && !explicit_assignment) {
      // The assignment decided a moment ago no longer fits (a broker left,
      // or another request added partitions): the client may retry.
      return Fail(ErrorCode::UNKNOWN_SERVER_ERROR,
                  fmt::format("{}: the cluster changed meanwhile ({}); try again", what,
                              added.status().message()));
    }
    return map_error(added.status());
  }
  spdlog::info("topic '{}' grows from {} to {} partitions in ZooKeeper", name, have, total);
  return {};
}

api::DeletedTopic ZkClusterAdmin::DeleteTopic(const std::string& name) {
  using Outcome = api::DeletedTopic;
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving<Outcome>();
  const std::string what = fmt::format("deleting topic '{}'", name);
  auto node = zk->Get(zk::TopicPath(name));
  if (node.code() == zk::ZkCode::kNoNode) {
    return Fail<Outcome>(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                         fmt::format("The topic '{}' does not exist.", name));
  }
  if (!node.ok()) return ZkFailed<Outcome>(what, node.error().message());
  Outcome deleted;
  if (auto assignment = zk::DecodeTopicAssignment(node->data); assignment.ok()) {
    if (auto id = controller::ParseTopicUuid(assignment->topic_id)) deleted.topic_id = *id;
  }
  if (cluster::IsInternalTopic(name)) {
    // As on a single node (create_topics.cc, DeleteTopics): it would lose
    // every group's committed offsets.
    Outcome refused = Fail<Outcome>(
        ErrorCode::INVALID_TOPIC_EXCEPTION,
        fmt::format(
            "Topic {} is a kafka internal topic and is not allowed to be marked for deletion.",
            name));
    refused.topic_id = deleted.topic_id;
    return refused;
  }
  Status s = controller::RequestTopicDeletion(*zk, name);
  if (s.IsNotFound()) {
    return Fail<Outcome>(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                         fmt::format("The topic '{}' does not exist.", name));
  }
  if (!s.ok()) return ZkFailed<Outcome>(what, s.message());
  spdlog::info("topic '{}' marked for deletion in ZooKeeper", name);
  return deleted;
}

api::AdminOutcome ZkClusterAdmin::AlterTopicConfig(const std::string& name,
                                                   const api::TopicConfigEdit& edit,
                                                   bool validate_only) {
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving();
  api::AdminOutcome refused;
  auto changed = controller::ChangeTopicConfig(
      *zk, name,
      [&](std::map<std::string, std::string>& overrides) {
        refused = edit(overrides);  // The last attempt's verdict is the one that counts.
        return refused.ok() ? Status::Ok() : Status::Aborted(refused.message);
      },
      validate_only);
  if (!refused.ok()) return refused;
  if (changed.status().IsNotFound()) {
    return Fail(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                fmt::format("Topic '{}' does not exist.", name));
  }
  if (!changed.ok()) {
    return ZkFailed(fmt::format("altering the config of topic '{}'", name),
                    changed.status().message());
  }
  if (!validate_only) {
    std::vector<std::string> shown;
    for (const auto& [key, value] : *changed) shown.push_back(fmt::format("{}={}", key, value));
    spdlog::info("topic '{}': config overrides now {{{}}} in ZooKeeper", name,
                 fmt::join(shown, ", "));
  }
  return {};
}

api::TopicConfigs ZkClusterAdmin::DescribeTopicConfig(const std::string& name) {
  using Outcome = api::TopicConfigs;
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving<Outcome>();
  const std::string what = fmt::format("reading the config of topic '{}'", name);
  auto topic = zk->Exists(zk::TopicPath(name));
  if (!topic.ok()) return ZkFailed<Outcome>(what, topic.error().message());
  if (!topic->has_value()) {
    return Fail<Outcome>(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                         fmt::format("Topic '{}' does not exist.", name));
  }
  Outcome out;
  auto node = zk->Get(zk::TopicConfigPath(name));
  if (node.code() == zk::ZkCode::kNoNode) return out;  // No overrides (as Kafka reads it).
  if (!node.ok()) return ZkFailed<Outcome>(what, node.error().message());
  auto config = zk::DecodeTopicConfig(node->data);
  if (!config.ok()) return ZkFailed<Outcome>(what, config.status().message());
  out.overrides = std::move(config).value();
  return out;
}

api::AdminOutcome ZkClusterAdmin::AlterBrokerConfig(const std::string& entity,
                                                    const api::TopicConfigEdit& edit,
                                                    bool validate_only) {
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving();
  api::AdminOutcome refused;
  auto changed = controller::ChangeBrokerConfig(
      *zk, entity,
      [&](std::map<std::string, std::string>& overrides) {
        refused = edit(overrides);  // The last attempt's verdict is the one that counts.
        return refused.ok() ? Status::Ok() : Status::Aborted(refused.message);
      },
      validate_only);
  if (!refused.ok()) return refused;
  if (!changed.ok()) {
    return ZkFailed(fmt::format("altering the dynamic config of broker '{}'", entity),
                    changed.status().message());
  }
  if (!validate_only) {
    std::vector<std::string> shown;
    for (const auto& [key, value] : *changed) shown.push_back(fmt::format("{}={}", key, value));
    spdlog::info("broker '{}': dynamic config now {{{}}} in ZooKeeper", entity,
                 fmt::join(shown, ", "));
  }
  return {};
}

api::TopicConfigs ZkClusterAdmin::DescribeBrokerConfig(const std::string& entity) {
  using Outcome = api::TopicConfigs;
  std::shared_ptr<zk::ZkClient> zk = membership_->AdminZk();
  if (zk == nullptr) return Leaving<Outcome>();
  auto config = controller::ReadBrokerConfig(*zk, entity);
  if (!config.ok()) {
    return ZkFailed<Outcome>(fmt::format("reading the dynamic config of broker '{}'", entity),
                             config.status().message());
  }
  Outcome out;
  out.overrides = std::move(config).value();
  return out;
}

}  // namespace sluice::broker
