// The consumer-group admin calls of librdkafka, each turned into plain structs
// so `sluice group` can sort, join and print them without librdkafka's
// object lifetimes.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/kafka_client.h"

namespace sluice::tools {

using TopicPartition = std::pair<std::string, int32_t>;

struct GroupListing {
  std::string group_id;
  std::string state;  // Kafka's name: Stable, Empty, PreparingRebalance, ...
  bool simple = false;  // No protocol type: offsets only, never joined.
};

struct GroupMember {
  std::string member_id;
  std::string client_id;
  std::string host;
  std::optional<std::string> instance_id;  // Static members only.
  std::vector<TopicPartition> assignment;  // Sorted.
};

struct GroupDescription {
  std::string group_id;
  rd_kafka_consumer_group_state_t state = RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN;
  bool simple = false;
  std::string assignor;
  int coordinator_id = -1;
  std::string coordinator_host;
  int coordinator_port = 0;
  std::vector<GroupMember> members;  // Sorted by member id.
};

// Kafka's name of a state ("Stable", ...).
std::string GroupStateName(rd_kafka_consumer_group_state_t state);

// Every group (or those in `states`, if not empty), sorted by id.
CommandStatus ListGroups(KafkaClient& client,
                         const std::vector<rd_kafka_consumer_group_state_t>& states,
                         std::vector<GroupListing>* out);

CommandStatus DescribeGroup(KafkaClient& client, const std::string& group,
                            GroupDescription* out);

// All committed offsets of the group (partitions without one are left out).
CommandStatus FetchCommittedOffsets(KafkaClient& client, const std::string& group,
                                    std::map<TopicPartition, int64_t>* out);

// Commits `offsets` for the group as an admin (no member, no generation),
// which the coordinator accepts only while the group has no members.
CommandStatus AlterCommittedOffsets(KafkaClient& client, const std::string& group,
                                    const std::map<TopicPartition, int64_t>& offsets);

// One result per group, in the order given.
CommandStatus DeleteGroups(KafkaClient& client, const std::vector<std::string>& groups,
                           std::vector<std::pair<std::string, CommandStatus>>* out);

}  // namespace sluice::tools
