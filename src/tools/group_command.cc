// sluice group list|describe|delete|reset-offsets: the consumer-group admin
// API of librdkafka plus watermarks for lag, printed as tables or JSON.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "tools/group_admin.h"
#include "tools/group_commands.h"
#include "tools/group_reset.h"
#include "tools/perf_report.h"  // JsonString

namespace sluice::tools {

namespace {

using Row = std::vector<std::string>;

// Columns padded to their widest cell; the last one is not padded.
void PrintTable(const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const Row& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const Row& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
    }
    fmt::print("{}\n", line);
  }
}

std::string JsonInt(std::optional<int64_t> v) { return v ? fmt::to_string(*v) : "null"; }
std::string JsonOptString(const std::optional<std::string>& s) {
  return s ? JsonString(*s) : "null";
}
std::string Dash(std::optional<int64_t> v) { return v ? fmt::to_string(*v) : "-"; }


std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<std::vector<rd_kafka_consumer_group_state_t>> ParseStates(const std::string& list) {
  std::vector<rd_kafka_consumer_group_state_t> states;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    if (name.empty()) continue;
    rd_kafka_consumer_group_state_t state = RD_KAFKA_CONSUMER_GROUP_STATE__CNT;
    for (int i = 0; i < RD_KAFKA_CONSUMER_GROUP_STATE__CNT; ++i) {
      auto candidate = static_cast<rd_kafka_consumer_group_state_t>(i);
      if (candidate != RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN &&
          Lower(GroupStateName(candidate)) == Lower(name)) {
        state = candidate;
      }
    }
    if (state == RD_KAFKA_CONSUMER_GROUP_STATE__CNT) {
      return Status::InvalidArgument(fmt::format(
          "--state: unknown state '{}' (Stable, Empty, PreparingRebalance, "
          "CompletingRebalance, Dead)", name));
    }
    if (std::find(states.begin(), states.end(), state) == states.end()) states.push_back(state);
  }
  return states;
}

// Kafka's answer for a group it does not know is state Dead with no members.
bool Exists(const GroupDescription& d) {
  return d.state != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD &&
         d.state != RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN;
}

bool Inactive(const GroupDescription& d) {
  return d.members.empty() && (d.state == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY || !Exists(d));
}

// One partition row of `group describe`.
struct PartitionRow {
  TopicPartition tp;
  std::optional<int64_t> committed;
  std::optional<int64_t> log_end;
  const GroupMember* owner = nullptr;

  std::optional<int64_t> lag() const {
    if (!committed || !log_end) return std::nullopt;
    return std::max<int64_t>(0, *log_end - *committed);
  }
};

std::string AssignmentText(const std::vector<TopicPartition>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    bool same_topic = i > 0 && parts[i - 1].first == parts[i].first;
    out += same_topic ? fmt::format(",{}", parts[i].second)
                      : fmt::format("{}{}:{}", i > 0 ? " " : "", parts[i].first, parts[i].second);
  }
  return out.empty() ? "-" : out;
}

std::string DescribeJson(const GroupDescription& d, const std::vector<PartitionRow>& rows) {
  std::string members;
  for (const GroupMember& m : d.members) {
    std::string parts;
    for (const TopicPartition& tp : m.assignment) {
      parts += fmt::format("{}{{\"topic\":{},\"partition\":{}}}", parts.empty() ? "" : ",",
                           JsonString(tp.first), tp.second);
    }
    members += fmt::format(
        "{}{{\"member_id\":{},\"client_id\":{},\"host\":{},\"instance_id\":{},"
        "\"partitions\":[{}]}}",
        members.empty() ? "" : ",", JsonString(m.member_id), JsonString(m.client_id),
        JsonString(m.host), JsonOptString(m.instance_id), parts);
  }
  std::string offsets;
  for (const PartitionRow& r : rows) {
    offsets += fmt::format(
        "{}{{\"topic\":{},\"partition\":{},\"committed\":{},\"log_end_offset\":{},\"lag\":{},"
        "\"owner\":{}}}",
        offsets.empty() ? "" : ",", JsonString(r.tp.first), r.tp.second, JsonInt(r.committed),
        JsonInt(r.log_end), JsonInt(r.lag()),
        r.owner != nullptr ? JsonString(r.owner->member_id) : "null");
  }
  return fmt::format(
      "{{\"group\":{},\"state\":{},\"type\":{},\"assignor\":{},"
      "\"coordinator\":{{\"id\":{},\"host\":{},\"port\":{}}},\"members\":[{}],\"offsets\":[{}]}}",
      JsonString(d.group_id), JsonString(GroupStateName(d.state)),
      JsonString(d.simple ? "simple" : "consumer"), JsonString(d.assignor), d.coordinator_id,
      JsonString(d.coordinator_host), d.coordinator_port, members, offsets);
}

void DescribeText(const GroupDescription& d, const std::vector<PartitionRow>& rows) {
  fmt::print("Group:        {}\n", d.group_id);
  fmt::print("State:        {}\n", GroupStateName(d.state));
  fmt::print("Type:         {}{}\n", d.simple ? "simple (offsets only)" : "consumer",
             d.assignor.empty() ? "" : fmt::format("  Assignor: {}", d.assignor));
  fmt::print("Coordinator:  {} ({}:{})\n", d.coordinator_id, d.coordinator_host,
             d.coordinator_port);
  fmt::print("Members:      {}\n", d.members.size());
  if (!d.members.empty()) {
    std::vector<Row> table = {{"MEMBER-ID", "CLIENT-ID", "HOST", "INSTANCE-ID", "PARTITIONS"}};
    for (const GroupMember& m : d.members) {
      table.push_back({m.member_id, m.client_id, m.host, m.instance_id.value_or("-"),
                       AssignmentText(m.assignment)});
    }
    fmt::print("\n");
    PrintTable(table);
  }
  fmt::print("\n");
  if (rows.empty()) {
    fmt::print("(no committed offsets and no assigned partitions)\n");
    return;
  }
  std::vector<Row> table = {
      {"TOPIC", "PARTITION", "COMMITTED", "LOG-END-OFFSET", "LAG", "MEMBER-ID", "CLIENT-ID"}};
  for (const PartitionRow& r : rows) {
    table.push_back({r.tp.first, fmt::to_string(r.tp.second), Dash(r.committed), Dash(r.log_end),
                     Dash(r.lag()), r.owner != nullptr ? r.owner->member_id : "-",
                     r.owner != nullptr ? r.owner->client_id : "-"});
  }
  PrintTable(table);
}

CommandStatus GroupNotFound(const std::string& group) {
  return CommandStatus::Kafka(RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND,
                              fmt::format("Consumer group '{}' does not exist.", group));
}

}  // namespace

int RunGroupList(const GlobalOptions& global, const GroupListOptions& opts) {
  Result<std::vector<rd_kafka_consumer_group_state_t>> states = ParseStates(opts.states);
  if (!states.ok()) return Finish(CommandStatus::FromStatus(states.status()));
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  std::vector<GroupListing> groups;
  s = ListGroups(*client, *states, &groups);
  if (!s.ok()) return Finish(s);
  if (opts.json) {
    std::string items;
    for (const GroupListing& g : groups) {
      items += fmt::format("{}{{\"group\":{},\"state\":{},\"type\":{}}}", items.empty() ? "" : ",",
                           JsonString(g.group_id), JsonString(g.state),
                           JsonString(g.simple ? "simple" : "consumer"));
    }
    fmt::print("{{\"groups\":[{}]}}\n", items);
    return kExitOk;
  }
  std::vector<Row> table = {{"GROUP", "STATE", "TYPE"}};
  for (const GroupListing& g : groups) {
    table.push_back({g.group_id, g.state, g.simple ? "simple" : "consumer"});
  }
  PrintTable(table);
  return kExitOk;
}

int RunGroupDescribe(const GlobalOptions& global, const GroupDescribeOptions& opts) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  GroupDescription d;
  s = DescribeGroup(*client, opts.group, &d);
  if (!s.ok()) return Finish(s);
  std::map<TopicPartition, int64_t> committed;
  s = FetchCommittedOffsets(*client, opts.group, &committed);
  if (!s.ok()) return Finish(s);
  if (!Exists(d) && committed.empty()) return Finish(GroupNotFound(opts.group));

  std::map<TopicPartition, PartitionRow> rows;
  for (const auto& [tp, offset] : committed) rows[tp] = {tp, offset, std::nullopt, nullptr};
  for (const GroupMember& m : d.members) {
    for (const TopicPartition& tp : m.assignment) {
      PartitionRow& row = rows[tp];
      row.tp = tp;
      row.owner = &m;
    }
  }
  std::vector<PartitionRow> ordered;
  for (auto& [tp, row] : rows) {
    int64_t low = 0, high = 0;
    // A partition that is gone (topic deleted) shows no end rather than failing the whole view.
    if (rd_kafka_query_watermark_offsets(client->get(), tp.first.c_str(), tp.second, &low, &high,
                                         client->timeout_ms()) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      row.log_end = high;
    }
    ordered.push_back(row);
  }
  if (opts.json) {
    fmt::print("{}\n", DescribeJson(d, ordered));
  } else {
    DescribeText(d, ordered);
  }
  return kExitOk;
}

int RunGroupDelete(const GlobalOptions& global, const std::vector<std::string>& groups) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  std::vector<std::pair<std::string, CommandStatus>> results;
  s = DeleteGroups(*client, groups, &results);
  if (!s.ok()) return Finish(s);
  int exit_code = kExitOk;
  for (const auto& [group, result] : results) {
    if (result.ok()) {
      fmt::print("Deleted group '{}'.\n", group);
    } else {
      exit_code = Finish(CommandStatus::Failed(fmt::format("group '{}': {}", group,
                                                           result.message())));
    }
  }
  return exit_code;
}

int RunGroupResetOffsets(const GlobalOptions& global, const GroupResetOptions& opts) {
  int modes = int{opts.to_earliest} + int{opts.to_latest} + int{opts.to_offset.has_value()} +
              int{opts.shift_by.has_value()} + int{opts.to_datetime.has_value()};
  if (modes != 1) {
    return Finish(CommandStatus::Usage(
        "give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime"));
  }
  ResetSpec spec;
  if (opts.to_latest) spec.mode = ResetMode::kLatest;
  if (opts.to_offset) spec = {ResetMode::kOffset, *opts.to_offset};
  if (opts.shift_by) spec = {ResetMode::kShiftBy, *opts.shift_by};
  if (opts.to_datetime) {
    Result<int64_t> ms = ParseDateTime(*opts.to_datetime);
    if (!ms.ok()) return Finish(CommandStatus::Usage("--to-datetime: " + ms.status().message()));
    spec = {ResetMode::kDateTime, *ms};
  }

  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  const rd_kafka_metadata_topic_t* topic = nullptr;
  s = KafkaClient::FindTopic(*md, opts.topic, &topic);
  if (!s.ok()) return Finish(s);
  std::set<int32_t> partitions(opts.partitions.begin(), opts.partitions.end());
  if (partitions.empty()) {
    for (int i = 0; i < topic->partition_cnt; ++i) partitions.insert(topic->partitions[i].id);
  }
  for (int32_t p : partitions) {
    if (p >= topic->partition_cnt) {
      return Finish(CommandStatus::Kafka(
          RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
          fmt::format("topic '{}' has no partition {} (it has {})", opts.topic, p,
                      topic->partition_cnt)));
    }
  }

  // Kafka refuses too: a live member would overwrite the reset with its own
  // commits, and the coordinator rejects admin commits to an active group.
  GroupDescription d;
  s = DescribeGroup(*client, opts.group, &d);
  if (!s.ok()) return Finish(s);
  if (!Inactive(d)) {
    return Finish(CommandStatus::Failed(fmt::format(
        "cannot reset the offsets of group '{}' while it is active (state {}, {} member(s)); "
        "stop its consumers first",
        opts.group, GroupStateName(d.state), d.members.size())));
  }
  std::map<TopicPartition, int64_t> committed;
  s = FetchCommittedOffsets(*client, opts.group, &committed);
  if (!s.ok()) return Finish(s);

  PartitionListPtr by_time(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions) {
    rd_kafka_topic_partition_list_add(by_time.get(), opts.topic.c_str(), p)->offset = spec.value;
  }
  if (spec.mode == ResetMode::kDateTime) {
    rd_kafka_resp_err_t err =
        rd_kafka_offsets_for_times(client->get(), by_time.get(), client->timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Finish(CommandStatus::Kafka(err, fmt::format("offsets for time {}: {}", spec.value,
                                                          rd_kafka_err2str(err))));
    }
  }

  std::map<TopicPartition, int64_t> plan;
  std::vector<Row> table = {{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"}};
  for (int32_t p : partitions) {
    TopicPartition tp{opts.topic, p};
    PartitionOffsets offsets;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        client->get(), opts.topic.c_str(), p, &offsets.log_start, &offsets.log_end,
        client->timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Finish(CommandStatus::Kafka(
          err, fmt::format("offsets of {}-{}: {}", opts.topic, p, rd_kafka_err2str(err))));
    }
    if (auto it = committed.find(tp); it != committed.end()) offsets.committed = it->second;
    if (spec.mode == ResetMode::kDateTime) {
      const rd_kafka_topic_partition_t* t =
          rd_kafka_topic_partition_list_find(by_time.get(), opts.topic.c_str(), p);
      if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Finish(CommandStatus::Kafka(
            t->err, fmt::format("offset for time of {}-{}: {}", opts.topic, p,
                                rd_kafka_err2str(t->err))));
      }
      if (t->offset >= 0) offsets.at_time = t->offset;
    }
    Result<int64_t> target = PlanResetOffset(spec, offsets);
    if (!target.ok()) {
      return Finish(CommandStatus::Failed(fmt::format(
          "partition {}-{}: {} (leave it out with --partition)", opts.topic, p,
          target.status().message())));
    }
    plan[tp] = *target;
    table.push_back({opts.group, opts.topic, fmt::to_string(p), Dash(offsets.committed),
                     fmt::to_string(*target)});
  }
  PrintTable(table);
  if (!opts.execute) {
    std::fflush(stdout);
    std::fprintf(stderr, "note: nothing was changed; add --execute to commit these offsets\n");
    return kExitOk;
  }
  s = AlterCommittedOffsets(*client, opts.group, plan);
  if (!s.ok()) return Finish(s);
  fmt::print("Committed the new offsets of {} partition(s) for group '{}'.\n", plan.size(),
             opts.group);
  return kExitOk;
}

}  // namespace sluice::tools
