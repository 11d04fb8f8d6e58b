#include "tools/reassign_throttle.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/generated/incremental_alter_configs.h"
#include "rpc/connection.h"

namespace sluice::tools {
namespace {

using protocol::IncrementalAlterConfigsRequest;
using protocol::IncrementalAlterConfigsResponse;

constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;
enum Op : int8_t { kSet = 0, kDelete = 1, kAppend = 2 };
constexpr const char* kLeaderReplicas = "leader.replication.throttled.replicas";
constexpr const char* kFollowerReplicas = "follower.replication.throttled.replicas";
constexpr const char* kRates[] = {"leader.replication.throttled.rate",
                                  "follower.replication.throttled.rate"};

using Ops = std::vector<std::pair<std::string, std::pair<Op, std::string>>>;

// One IncrementalAlterConfigs of one resource, sent to broker `id`.
CommandStatus Alter(const GlobalOptions& global, const rd_kafka_metadata_t& md, int32_t id,
                    int8_t type, const std::string& name, const Ops& ops) {
  const rd_kafka_metadata_broker_t* broker = KafkaClient::FindBroker(md, id);
  if (broker == nullptr) {
    return CommandStatus::Unreachable(fmt::format("broker {} is not in the cluster's metadata", id));
  }
  rpc::ConnectionOptions options;
  options.client_id = "sluice";
  options.connect_timeout = std::chrono::milliseconds(global.timeout_ms);
  options.request_timeout = std::chrono::milliseconds(global.timeout_ms + 5000);
  auto conn = rpc::Connection::Connect(broker->host, broker->port, options);
  if (!conn.ok()) {
    return CommandStatus::Unreachable(
        fmt::format("cannot reach broker {}: {}", id, conn.status().message()));
  }
  IncrementalAlterConfigsRequest request;
  auto& res = request.resources.emplace_back();
  res.resource_type = type;
  res.resource_name = name;
  for (const auto& [key, op] : ops) {
    auto& c = res.configs.emplace_back();
    c.name = key;
    c.config_operation = op.first;
    c.value = op.second;
  }
  auto reply = (*conn)->Call<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(
      request, 1);
  if (!reply.ok()) {
    return CommandStatus::Unreachable(
        fmt::format("IncrementalAlterConfigs to broker {}: {}", id, reply.status().message()));
  }
  for (const auto& r : reply->body().responses) {
    if (r.error_code != 0) {
      return CommandStatus::Kafka(static_cast<rd_kafka_resp_err_t>(r.error_code),
                                  fmt::format("{} '{}': {}", type == kTopicResource ? "topic" : "broker",
                                              name, r.error_message.value_or("")));
    }
  }
  return {};
}

// Any broker of the metadata, for the topic's change.
int32_t AnyBroker(const rd_kafka_metadata_t& md) {
  return md.broker_cnt > 0 ? md.brokers[0].id : -1;
}

}  // namespace

CommandStatus SetReassignThrottle(const GlobalOptions& global, const rd_kafka_metadata_t& md,
                                  const std::string& topic, int32_t partition,
                                  const std::vector<int32_t>& current,
                                  const std::vector<int32_t>& target, int64_t bytes_per_second) {
  std::vector<std::string> leaders;
  std::vector<std::string> followers;
  for (int32_t r : current) leaders.push_back(fmt::format("{}:{}", partition, r));
  for (int32_t r : target) {
    if (std::find(current.begin(), current.end(), r) == current.end()) {
      followers.push_back(fmt::format("{}:{}", partition, r));
    }
  }
  Ops topic_ops = {{kLeaderReplicas, {kAppend, fmt::format("{}", fmt::join(leaders, ","))}}};
  if (!followers.empty()) {
    topic_ops.push_back({kFollowerReplicas, {kAppend, fmt::format("{}", fmt::join(followers, ","))}});
  }
  CommandStatus s = Alter(global, md, AnyBroker(md), kTopicResource, topic, topic_ops);
  if (!s.ok()) return s;
  std::set<int32_t> brokers(current.begin(), current.end());
  brokers.insert(target.begin(), target.end());
  for (int32_t id : brokers) {
    Ops rates;
    for (const char* key : kRates) rates.push_back({key, {kSet, std::to_string(bytes_per_second)}});
    s = Alter(global, md, id, kBrokerResource, std::to_string(id), rates);
    if (!s.ok()) return s;
  }
  return {};
}

CommandStatus ClearReassignThrottle(const GlobalOptions& global, const rd_kafka_metadata_t& md,
                                    const std::string& topic) {
  CommandStatus s = Alter(global, md, AnyBroker(md), kTopicResource, topic,
                          {{kLeaderReplicas, {kDelete, ""}}, {kFollowerReplicas, {kDelete, ""}}});
  if (!s.ok()) return s;
  for (int i = 0; i < md.broker_cnt; ++i) {
    const int32_t id = md.brokers[i].id;
    Ops rates;
    for (const char* key : kRates) rates.push_back({key, {kDelete, ""}});
    s = Alter(global, md, id, kBrokerResource, std::to_string(id), rates);
    if (!s.ok()) return s;
  }
  return {};
}

}  // namespace sluice::tools
