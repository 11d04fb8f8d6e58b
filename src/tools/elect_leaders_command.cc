// sluice cluster elect-leaders: ElectLeaders (KIP-460) to the controller,
// which alone serves it. librdkafka 2.0 has no admin call for it, so this
// command finds the controller in librdkafka's Metadata and sends the
// request itself with rpc::Connection (the broker's own blocking client),
// at the highest version both sides speak.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "protocol/generated/api_versions.h"
#include "protocol/generated/elect_leaders.h"
#include "rpc/connection.h"
#include "tools/commands.h"

namespace sluice::tools {
namespace {

using protocol::ElectLeadersRequest;
using protocol::ElectLeadersResponse;

constexpr int16_t kElectionNotNeeded = 84;

// The partitions to name: nullopt for every partition of every topic.
CommandStatus PartitionsToName(
    KafkaClient& client, const ElectLeadersOptions& opts,
    std::optional<std::vector<ElectLeadersRequest::TopicPartitions>>* out) {
  if (opts.topic.empty()) {
    *out = std::nullopt;
    return {};
  }
  ElectLeadersRequest::TopicPartitions t;
  t.topic = opts.topic;
  if (opts.partition >= 0) {
    t.partition_id.push_back(opts.partition);
  } else {
    MetadataPtr md;
    CommandStatus s = client.FetchMetadata(&md);
    if (!s.ok()) return s;
    const rd_kafka_metadata_topic_t* topic = nullptr;
    s = KafkaClient::FindTopic(*md, opts.topic, &topic);
    if (!s.ok()) return s;
    for (int i = 0; i < topic->partition_cnt; ++i) {
      t.partition_id.push_back(topic->partitions[i].id);
    }
    std::sort(t.partition_id.begin(), t.partition_id.end());
  }
  *out = std::vector<ElectLeadersRequest::TopicPartitions>{std::move(t)};
  return {};
}

// Sends the election to `controller`. A controller that moved answers
// NOT_CONTROLLER (top level from v1, every partition in v0): *moved.
CommandStatus Send(const GlobalOptions& global, const KafkaClient::Controller& controller,
                   const ElectLeadersRequest& request, bool unclean, ElectLeadersResponse* out,
                   bool* moved) {
  *moved = false;
  rpc::ConnectionOptions options;
  options.client_id = "sluice";
  options.connect_timeout = std::chrono::milliseconds(global.timeout_ms);
  // The election's own timeout, and a margin for the answer to arrive.
  options.request_timeout = std::chrono::milliseconds(global.timeout_ms + 5000);
  const std::string where = fmt::format("{}:{}", controller.host, controller.port);
  auto conn = rpc::Connection::Connect(controller.host, controller.port, options);
  if (!conn.ok()) {
    return CommandStatus::Unreachable(
        fmt::format("cannot reach the controller, broker {} at {}: {}", controller.id, where,
                    conn.status().message()));
  }
  auto versions = (*conn)->Call<protocol::ApiVersionsRequest, protocol::ApiVersionsResponse>(
      protocol::ApiVersionsRequest{}, 0);
  if (!versions.ok()) {
    return CommandStatus::Unreachable(
        fmt::format("ApiVersions to {}: {}", where, versions.status().message()));
  }
  std::optional<int16_t> version;
  for (const auto& k : versions->body().api_keys) {
    if (k.api_key != ElectLeadersRequest::kApiKey) continue;
    const int16_t high = std::min(k.max_version, ElectLeadersRequest::kMaxVersion);
    if (high >= k.min_version) version = high;
  }
  if (!version) {
    return CommandStatus::Failed(
        fmt::format("broker {} does not serve ElectLeaders", controller.id));
  }
  if (unclean && *version < 1) {
    return CommandStatus::Failed(fmt::format(
        "broker {} speaks ElectLeaders v0 only, which has no unclean election", controller.id));
  }
  auto reply = (*conn)->Call<ElectLeadersRequest, ElectLeadersResponse>(request, *version);
  if (!reply.ok()) {
    return CommandStatus::Unreachable(
        fmt::format("ElectLeaders to {}: {}", where, reply.status().message()));
  }
  *out = std::move(reply->body());
  bool all_not_controller = !out->replica_election_results.empty();
  for (const auto& t : out->replica_election_results) {
    for (const auto& p : t.partition_result) {
      all_not_controller &= p.error_code == KafkaClient::kNotController;
    }
  }
  *moved = out->error_code == KafkaClient::kNotController || all_not_controller;
  if (out->error_code != 0 && !*moved) {
    return CommandStatus::Kafka(static_cast<rd_kafka_resp_err_t>(out->error_code),
                                "the controller refused the election");
  }
  return {};
}

struct Row {
  std::string topic;
  int32_t partition;
  int16_t error;
  std::optional<std::string> message;
};

}  // namespace

int RunClusterElectLeaders(const GlobalOptions& global, const ElectLeadersOptions& opts) {
  if (opts.partition >= 0 && opts.topic.empty()) {
    return Finish(CommandStatus::Usage("--partition needs --topic"));
  }
  const bool unclean = opts.type == "unclean";
  std::unique_ptr<KafkaClient> client;
  CommandStatus s = KafkaClient::Open(global, KafkaClient::Role::kProducer, {}, &client);
  if (!s.ok()) return Finish(s);

  ElectLeadersRequest request;
  request.election_type = unclean ? 1 : 0;
  request.timeout_ms = global.timeout_ms;
  s = PartitionsToName(*client, opts, &request.topic_partitions);
  if (!s.ok()) return Finish(s);

  // The controller may move between the metadata and the request: ask the
  // new one, until the timeout.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(global.timeout_ms);
  ElectLeadersResponse response;
  for (;;) {
    KafkaClient::Controller controller;
    s = client->FindController(&controller);
    if (!s.ok()) return Finish(s);
    bool moved = false;
    s = Send(global, controller, request, unclean, &response, &moved);
    if (!s.ok()) return Finish(s);
    if (!moved) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Finish(
          CommandStatus::Kafka(static_cast<rd_kafka_resp_err_t>(KafkaClient::kNotController),
                               "no broker answered as the controller"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  std::vector<Row> rows;
  size_t width = std::string_view("TOPIC").size();
  for (const auto& t : response.replica_election_results) {
    for (const auto& p : t.partition_result) {
      rows.push_back({t.topic, p.partition_id, p.error_code, p.error_message});
      width = std::max(width, t.topic.size());
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  size_t elected = 0, not_needed = 0, failed = 0;
  fmt::print("{:<{}}  {:<9}  {}\n", "TOPIC", width, "PARTITION", "RESULT");
  for (const Row& r : rows) {
    std::string result = "ELECTED";
    if (r.error == 0) {
      ++elected;
    } else {
      ++(r.error == kElectionNotNeeded ? not_needed : failed);
      result = rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(r.error));
      if (r.message) result += fmt::format(" ({})", *r.message);
    }
    fmt::print("{:<{}}  {:<9}  {}\n", r.topic, width, r.partition, result);
  }
  fmt::print("{} elected, {} not needed, {} failed ({} election).\n", elected, not_needed, failed,
             unclean ? "unclean" : "preferred");
  if (failed > 0) {
    return Finish(
        CommandStatus::Failed(fmt::format("{} partition(s) had no leader elected", failed)));
  }
  return kExitOk;
}

}  // namespace sluice::tools
