// sluice partition reassign / reassignments: AlterPartitionReassignments and
// ListPartitionReassignments (KIP-455) to the controller, which alone serves
// them. librdkafka 2.0 has no admin call for either, so, as `cluster
// elect-leaders` does, this finds the controller in librdkafka's Metadata
// and sends the request with rpc::Connection (v0, the only version).
// The listing adds, for each replica being added, whether it has joined the
// ISR yet (the metadata) and, while it has not, how much of the leader's log
// it holds (DescribeLogDirs to both brokers: partition sizes in bytes).
// --throttle and clear-throttle: reassign_throttle.h.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/generated/alter_partition_reassignments.h"
#include "protocol/generated/describe_log_dirs.h"
#include "protocol/generated/list_partition_reassignments.h"
#include "rpc/connection.h"
#include "tools/commands.h"
#include "tools/reassign_throttle.h"

namespace sluice::tools {
namespace {

using protocol::AlterPartitionReassignmentsRequest;
using protocol::AlterPartitionReassignmentsResponse;
using protocol::ListPartitionReassignmentsRequest;
using protocol::ListPartitionReassignmentsResponse;

// Sends `request` to the controller, asking the new one while the answer is
// NOT_CONTROLLER (it moved between the metadata and the request), until the
// timeout.
template <typename Req, typename Resp>
CommandStatus CallController(const GlobalOptions& global, KafkaClient& client, const Req& request,
                             Resp* out) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(global.timeout_ms);
  for (;;) {
    KafkaClient::Controller controller;
    CommandStatus s = client.FindController(&controller);
    if (!s.ok()) return s;
    rpc::ConnectionOptions options;
    options.client_id = "sluice";
    options.connect_timeout = std::chrono::milliseconds(global.timeout_ms);
    options.request_timeout = std::chrono::milliseconds(global.timeout_ms + 5000);
    const std::string where = fmt::format("{}:{}", controller.host, controller.port);
    auto conn = rpc::Connection::Connect(controller.host, controller.port, options);
    if (!conn.ok()) {
      return CommandStatus::Unreachable(fmt::format("cannot reach the controller, broker {} at {}: {}",
                                                    controller.id, where, conn.status().message()));
    }
    auto reply = (*conn)->template Call<Req, Resp>(request, 0);
    if (!reply.ok()) {
      return CommandStatus::Unreachable(
          fmt::format("{} to {}: {}", Req::kName, where, reply.status().message()));
    }
    *out = std::move(reply->body());
    if (out->error_code != KafkaClient::kNotController) {
      if (out->error_code == 0) return {};
      return CommandStatus::Kafka(static_cast<rd_kafka_resp_err_t>(out->error_code),
                                  out->error_message.value_or("the controller refused"));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return CommandStatus::Kafka(static_cast<rd_kafka_resp_err_t>(KafkaClient::kNotController),
                                  "no broker answered as the controller");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// "2,3,4" -> {2, 3, 4}.
CommandStatus ParseReplicas(const std::string& text, std::vector<int32_t>* out) {
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, comma - begin);
    try {
      size_t used = 0;
      const int id = std::stoi(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      out->push_back(id);
    } catch (const std::exception&) {
      return CommandStatus::Usage(fmt::format("--replicas: '{}' is not a broker id", item));
    }
    begin = comma + 1;
  }
  return {};
}

// The bytes broker `id` holds of `topic`-`partition` in its log dirs
// (DescribeLogDirs v1), 0 if none yet; nullopt if the broker cannot be asked.
std::optional<int64_t> ReplicaBytes(const GlobalOptions& global, const rd_kafka_metadata_t& md,
                                    int32_t id, const std::string& topic, int32_t partition) {
  const rd_kafka_metadata_broker_t* broker = KafkaClient::FindBroker(md, id);
  if (broker == nullptr) return std::nullopt;
  rpc::ConnectionOptions options;
  options.client_id = "sluice";
  // A progress figure is not worth a long wait on a broker that does not
  // answer: at most 2 s each.
  const auto wait = std::chrono::milliseconds(std::min(global.timeout_ms, 2000));
  options.connect_timeout = wait;
  options.request_timeout = wait;
  auto conn = rpc::Connection::Connect(broker->host, broker->port, options);
  if (!conn.ok()) return std::nullopt;
  protocol::DescribeLogDirsRequest request;
  auto& t = request.topics.emplace().emplace_back();
  t.topic = topic;
  t.partitions = {partition};
  auto reply = (*conn)->Call<protocol::DescribeLogDirsRequest, protocol::DescribeLogDirsResponse>(
      request, 1);
  if (!reply.ok()) return std::nullopt;
  int64_t bytes = 0;
  for (const auto& dir : reply->body().results) {
    for (const auto& dt : dir.topics) {
      for (const auto& dp : dt.partitions) {
        if (dt.name == topic && dp.partition_index == partition && !dp.is_future_key) {
          bytes += dp.partition_size;
        }
      }
    }
  }
  return bytes;
}

std::string Bytes(int64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1024 * 1024));
}

std::string Join(const std::vector<int32_t>& v) { return v.empty() ? "-" : fmt::format("{}", fmt::join(v, ",")); }

}  // namespace

int RunPartitionReassign(const GlobalOptions& global, const ReassignOptions& opts) {
  if (opts.cancel == !opts.replicas.empty()) {
    return Finish(CommandStatus::Usage("give either --replicas or --cancel"));
  }
  AlterPartitionReassignmentsRequest request;
  request.timeout_ms = global.timeout_ms;
  auto& t = request.topics.emplace_back();
  t.name = opts.topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = opts.partition;
  if (!opts.cancel) {
    std::vector<int32_t> replicas;
    CommandStatus s = ParseReplicas(opts.replicas, &replicas);
    if (!s.ok()) return Finish(s);
    p.replicas = std::move(replicas);
  }
  std::unique_ptr<KafkaClient> client;
  CommandStatus s = KafkaClient::Open(global, KafkaClient::Role::kProducer, {}, &client);
  if (!s.ok()) return Finish(s);
  if (opts.throttle >= 0) {
    // Before the move starts, so that none of the copy goes unthrottled.
    MetadataPtr md;
    s = client->FetchMetadata(&md, opts.topic.c_str());
    if (!s.ok()) return Finish(s);
    const rd_kafka_metadata_topic_t* mt = nullptr;
    s = KafkaClient::FindTopic(*md, opts.topic, &mt);
    if (!s.ok()) return Finish(s);
    std::vector<int32_t> current;
    for (int j = 0; j < mt->partition_cnt; ++j) {
      const rd_kafka_metadata_partition_t& mp = mt->partitions[j];
      if (mp.id == opts.partition) current.assign(mp.replicas, mp.replicas + mp.replica_cnt);
    }
    if (current.empty()) {
      return Finish(CommandStatus::Kafka(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                         fmt::format("{}-{}", opts.topic, opts.partition)));
    }
    s = SetReassignThrottle(global, *md, opts.topic, opts.partition, current, *p.replicas,
                            opts.throttle);
    if (!s.ok()) return Finish(s);
    fmt::print("Throttled the copy of {}-{} to {} bytes/s.\n", opts.topic, opts.partition,
               opts.throttle);
  }
  AlterPartitionReassignmentsResponse response;
  s = CallController(global, *client, request, &response);
  if (!s.ok()) return Finish(s);
  for (const auto& rt : response.responses) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code != 0) {
        return Finish(CommandStatus::Kafka(static_cast<rd_kafka_resp_err_t>(rp.error_code),
                                           fmt::format("{}-{}: {}", rt.name, rp.partition_index,
                                                       rp.error_message.value_or(""))));
      }
    }
  }
  if (opts.cancel) {
    fmt::print("Cancelled the reassignment of {}-{}.\n", opts.topic, opts.partition);
  } else {
    fmt::print("Reassigning {}-{} to {}; `sluice partition reassignments` shows the progress.\n",
               opts.topic, opts.partition, opts.replicas);
  }
  return kExitOk;
}

int RunPartitionClearThrottle(const GlobalOptions& global, const std::string& topic) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  s = ClearReassignThrottle(global, *md, topic);
  if (!s.ok()) return Finish(s);
  fmt::print("Removed the replication throttle of {} and every broker's throttle rates.\n", topic);
  return kExitOk;
}

int RunPartitionReassignments(const GlobalOptions& global) {
  std::unique_ptr<KafkaClient> client;
  CommandStatus s = KafkaClient::Open(global, KafkaClient::Role::kProducer, {}, &client);
  if (!s.ok()) return Finish(s);
  ListPartitionReassignmentsRequest request;
  request.timeout_ms = global.timeout_ms;
  ListPartitionReassignmentsResponse response;
  s = CallController(global, *client, request, &response);
  if (!s.ok()) return Finish(s);
  // Each partition's ISR, as the metadata says it now.
  MetadataPtr md;
  s = client->FetchMetadata(&md);
  if (!s.ok()) return Finish(s);
  std::map<std::pair<std::string, int32_t>, std::set<int32_t>> isr;
  std::map<std::pair<std::string, int32_t>, int32_t> leader;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    for (int j = 0; j < t.partition_cnt; ++j) {
      const rd_kafka_metadata_partition_t& p = t.partitions[j];
      isr[{t.topic, p.id}] = std::set<int32_t>(p.isrs, p.isrs + p.isr_cnt);
      leader[{t.topic, p.id}] = p.leader;
    }
  }
  size_t width = std::string("TOPIC").size();
  for (const auto& t : response.topics) width = std::max(width, t.name.size());
  fmt::print("{:<{}}  {:<9}  {:<12}  {:<8}  {:<8}  {}\n", "TOPIC", width, "PARTITION", "REPLICAS",
             "ADDING", "REMOVING", "PROGRESS");
  size_t count = 0;
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) {
      ++count;
      const std::set<int32_t>& in = isr[{t.name, p.partition_index}];
      std::optional<int64_t> leader_bytes;
      std::vector<std::string> progress;
      for (int32_t r : p.adding_replicas) {
        if (in.contains(r)) {
          progress.push_back(fmt::format("{}: in sync", r));
          continue;
        }
        std::string line = fmt::format("{}: catching up", r);
        if (!leader_bytes) {
          leader_bytes = ReplicaBytes(global, *md, leader[{t.name, p.partition_index}], t.name,
                                      p.partition_index);
        }
        const std::optional<int64_t> bytes =
            ReplicaBytes(global, *md, r, t.name, p.partition_index);
        if (leader_bytes && bytes) {
          line += fmt::format(" ({} of {})", Bytes(*bytes), Bytes(*leader_bytes));
        }
        progress.push_back(std::move(line));
      }
      fmt::print("{:<{}}  {:<9}  {:<12}  {:<8}  {:<8}  {}\n", t.name, width, p.partition_index,
                 Join(p.replicas), Join(p.adding_replicas), Join(p.removing_replicas),
                 progress.empty() ? std::string("-") : fmt::format("{}", fmt::join(progress, ", ")));
    }
  }
  fmt::print("{} reassignment(s) in progress.\n", count);
  return kExitOk;
}

}  // namespace sluice::tools
