#include "replication/alter_partition_sender.h"

#include <map>
#include <string>
#include <utility>

#include "protocol/generated/alter_partition.h"

namespace sluice::replication {

namespace {
// v1: topics by name (this broker's partitions know their names; ids come
// with v2), plain ISR lists, the leader recovery state.
constexpr int16_t kAlterPartitionVersion = 1;
}  // namespace

AlterPartitionSender::AlterPartitionSender(
    int32_t broker_id, std::function<std::optional<LeaderEndpoint>()> controller,
    std::chrono::milliseconds timeout)
    : broker_id_(broker_id), controller_(std::move(controller)), timeout_(timeout) {}

Result<std::vector<IsrChangeResult>> AlterPartitionSender::Send(
    const std::vector<IsrChange>& changes) {
  std::optional<LeaderEndpoint> controller = controller_();
  if (!controller) return Status::NotFound("no controller is known");
  if (!conn_ || conn_->broken() || connected_to_ != controller) {
    rpc::ConnectionOptions options;
    options.client_id = "sluice-broker-" + std::to_string(broker_id_) + "-alter-partition";
    options.connect_timeout = timeout_;
    options.request_timeout = timeout_;
    auto conn = rpc::Connection::Connect(controller->host, controller->port, options);
    if (!conn.ok()) return conn.status();
    conn_ = std::move(conn).value();
    connected_to_ = controller;
  }
  protocol::AlterPartitionRequest request;
  request.broker_id = broker_id_;
  std::map<std::string, size_t> topic_index;
  for (const IsrChange& c : changes) {
    auto [it, fresh] = topic_index.emplace(c.topic, request.topics.size());
    if (fresh) request.topics.emplace_back().topic_name = c.topic;
    auto& p = request.topics[it->second].partitions.emplace_back();
    p.partition_index = c.partition;
    p.leader_epoch = c.leader_epoch;
    p.new_isr = c.new_isr;
    p.partition_epoch = c.partition_epoch;
  }
  auto reply = conn_->Call<protocol::AlterPartitionRequest, protocol::AlterPartitionResponse>(
      request, kAlterPartitionVersion);
  if (!reply.ok()) return reply.status();
  const auto& body = reply->body();
  std::vector<IsrChangeResult> out(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    out[i].error = protocol::ErrorCode::UNKNOWN_SERVER_ERROR;  // unless answered below
    if (body.error_code != 0) out[i].error = static_cast<protocol::ErrorCode>(body.error_code);
  }
  if (body.error_code != 0) return out;
  for (const auto& t : body.topics) {
    for (const auto& p : t.partitions) {
      for (size_t i = 0; i < changes.size(); ++i) {
        if (changes[i].topic != t.topic_name || changes[i].partition != p.partition_index) continue;
        out[i].error = static_cast<protocol::ErrorCode>(p.error_code);
        out[i].leader_epoch = p.leader_epoch;
        out[i].partition_epoch = p.partition_epoch;
        out[i].isr = p.isr;
      }
    }
  }
  return out;
}

}  // namespace sluice::replication
