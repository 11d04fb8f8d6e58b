#include "tools/group_admin.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

namespace sluice::tools {

namespace {

using ListOffsetsPtr =
    RdPtr<rd_kafka_ListConsumerGroupOffsets_t, rd_kafka_ListConsumerGroupOffsets_destroy>;
using AlterOffsetsPtr =
    RdPtr<rd_kafka_AlterConsumerGroupOffsets_t, rd_kafka_AlterConsumerGroupOffsets_destroy>;
using DeleteGroupPtr = RdPtr<rd_kafka_DeleteGroup_t, rd_kafka_DeleteGroup_destroy>;

CommandStatus FromError(const rd_kafka_error_t* error, std::string_view context = {}) {
  if (error == nullptr) return {};
  const char* text = rd_kafka_error_string(error);
  std::string detail = text != nullptr ? text : "";
  if (!context.empty()) detail = fmt::format("{}: {}", context, detail);
  return CommandStatus::Kafka(rd_kafka_error_code(error), detail);
}

std::string OrEmpty(const char* s) { return s != nullptr ? s : ""; }

// The first per-partition error of a group offsets result, as "<what> t-p: error".
CommandStatus FirstPartitionError(const rd_kafka_topic_partition_list_t* parts,
                                  std::string_view what) {
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = parts->elems[i];
    if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return CommandStatus::Kafka(p.err, fmt::format("{} {}-{}: {}", what, p.topic, p.partition,
                                                     rd_kafka_err2str(p.err)));
    }
  }
  return {};
}

// The single result of a one-group admin request, with its error checked.
CommandStatus SingleGroupResult(const rd_kafka_group_result_t** results, size_t n,
                                const std::string& group, const rd_kafka_group_result_t** out) {
  if (n != 1) {
    return CommandStatus::Failed(fmt::format("expected 1 result for group '{}', got {}", group, n));
  }
  CommandStatus s = FromError(rd_kafka_group_result_error(results[0]), "group '" + group + "'");
  if (!s.ok()) return s;
  *out = results[0];
  return {};
}

}  // namespace

std::string GroupStateName(rd_kafka_consumer_group_state_t state) {
  return rd_kafka_consumer_group_state_name(state);
}

CommandStatus ListGroups(KafkaClient& client,
                         const std::vector<rd_kafka_consumer_group_state_t>& states,
                         std::vector<GroupListing>* out) {
  EventPtr ev;
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        if (!states.empty()) {
          // Should it be refused, the filter below still applies.
          rd_kafka_error_t* e = rd_kafka_AdminOptions_set_match_consumer_group_states(
              options, states.data(), states.size());
          if (e != nullptr) rd_kafka_error_destroy(e);
        }
        rd_kafka_ListConsumerGroups(client.get(), options, queue);
      },
      &ev);
  if (!s.ok()) return s;
  const rd_kafka_ListConsumerGroups_result_t* result =
      rd_kafka_event_ListConsumerGroups_result(ev.get());
  size_t n_errors = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &n_errors);
  if (n_errors > 0) return FromError(errors[0], "listing groups");
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** groups =
      rd_kafka_ListConsumerGroups_result_valid(result, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_consumer_group_state_t state = rd_kafka_ConsumerGroupListing_state(groups[i]);
    if (!states.empty() && std::find(states.begin(), states.end(), state) == states.end()) continue;
    out->push_back({OrEmpty(rd_kafka_ConsumerGroupListing_group_id(groups[i])),
                    GroupStateName(state),
                    rd_kafka_ConsumerGroupListing_is_simple_consumer_group(groups[i]) != 0});
  }
  std::sort(out->begin(), out->end(), [](const GroupListing& a, const GroupListing& b) {
    return a.group_id < b.group_id;
  });
  return {};
}

CommandStatus DescribeGroup(KafkaClient& client, const std::string& group,
                            GroupDescription* out) {
  EventPtr ev;
  const char* name = group.c_str();
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DescribeConsumerGroups(client.get(), &name, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return s;
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** groups =
      rd_kafka_DescribeConsumerGroups_result_groups(
          rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
  if (n != 1) {
    return CommandStatus::Failed(fmt::format("expected 1 description of '{}', got {}", group, n));
  }
  const rd_kafka_ConsumerGroupDescription_t* d = groups[0];
  s = FromError(rd_kafka_ConsumerGroupDescription_error(d), "group '" + group + "'");
  if (!s.ok()) return s;
  out->group_id = OrEmpty(rd_kafka_ConsumerGroupDescription_group_id(d));
  out->state = rd_kafka_ConsumerGroupDescription_state(d);
  out->simple = rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(d) != 0;
  out->assignor = OrEmpty(rd_kafka_ConsumerGroupDescription_partition_assignor(d));
  if (const rd_kafka_Node_t* node = rd_kafka_ConsumerGroupDescription_coordinator(d)) {
    out->coordinator_id = rd_kafka_Node_id(node);
    out->coordinator_host = OrEmpty(rd_kafka_Node_host(node));
    out->coordinator_port = rd_kafka_Node_port(node);
  }
  size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
  for (size_t i = 0; i < members; ++i) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(d, i);
    GroupMember member;
    member.member_id = OrEmpty(rd_kafka_MemberDescription_consumer_id(m));
    member.client_id = OrEmpty(rd_kafka_MemberDescription_client_id(m));
    member.host = OrEmpty(rd_kafka_MemberDescription_host(m));
    const char* instance = rd_kafka_MemberDescription_group_instance_id(m);
    if (instance != nullptr && *instance != '\0') member.instance_id = instance;
    const rd_kafka_MemberAssignment_t* a = rd_kafka_MemberDescription_assignment(m);
    const rd_kafka_topic_partition_list_t* parts =
        a != nullptr ? rd_kafka_MemberAssignment_partitions(a) : nullptr;
    for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
      member.assignment.emplace_back(parts->elems[j].topic, parts->elems[j].partition);
    }
    std::sort(member.assignment.begin(), member.assignment.end());
    out->members.push_back(std::move(member));
  }
  std::sort(out->members.begin(), out->members.end(),
            [](const GroupMember& a, const GroupMember& b) { return a.member_id < b.member_id; });
  return {};
}

CommandStatus FetchCommittedOffsets(KafkaClient& client, const std::string& group,
                                    std::map<TopicPartition, int64_t>* out) {
  // No partition list: the coordinator answers with all of the group's.
  ListOffsetsPtr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr));
  rd_kafka_ListConsumerGroupOffsets_t* raw = request.get();
  EventPtr ev;
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_ListConsumerGroupOffsets(client.get(), &raw, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return s;
  size_t n = 0;
  const rd_kafka_group_result_t** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
  const rd_kafka_group_result_t* result = nullptr;
  s = SingleGroupResult(results, n, group, &result);
  if (!s.ok()) return s;
  const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(result);
  s = FirstPartitionError(parts, "committed offset of");
  if (!s.ok()) return s;
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = parts->elems[i];
    if (p.offset >= 0) (*out)[{p.topic, p.partition}] = p.offset;
  }
  return {};
}

CommandStatus AlterCommittedOffsets(KafkaClient& client, const std::string& group,
                                    const std::map<TopicPartition, int64_t>& offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [tp, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
  }
  AlterOffsetsPtr request(rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
  rd_kafka_AlterConsumerGroupOffsets_t* raw = request.get();
  EventPtr ev;
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_AlterConsumerGroupOffsets(client.get(), &raw, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return s;
  size_t n = 0;
  const rd_kafka_group_result_t** results = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
  const rd_kafka_group_result_t* result = nullptr;
  s = SingleGroupResult(results, n, group, &result);
  if (!s.ok()) return s;
  return FirstPartitionError(rd_kafka_group_result_partitions(result), "committing");
}

CommandStatus DeleteGroups(KafkaClient& client, const std::vector<std::string>& groups,
                           std::vector<std::pair<std::string, CommandStatus>>* out) {
  std::vector<DeleteGroupPtr> owned;
  std::vector<rd_kafka_DeleteGroup_t*> raw;
  for (const std::string& g : groups) {
    owned.emplace_back(rd_kafka_DeleteGroup_new(g.c_str()));
    raw.push_back(owned.back().get());
  }
  EventPtr ev;
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_DELETEGROUPS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DeleteGroups(client.get(), raw.data(), raw.size(), options, queue);
      },
      &ev);
  if (!s.ok()) return s;
  size_t n = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
  std::map<std::string, CommandStatus> by_name;
  for (size_t i = 0; i < n; ++i) {
    by_name[OrEmpty(rd_kafka_group_result_name(results[i]))] =
        FromError(rd_kafka_group_result_error(results[i]));
  }
  for (const std::string& g : groups) {
    auto it = by_name.find(g);
    out->emplace_back(g, it != by_name.end() ? it->second
                                             : CommandStatus::Failed("no result from the broker"));
  }
  return {};
}

}  // namespace sluice::tools
