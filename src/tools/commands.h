// The subcommands of `sluice`. main.cc fills these option structs from the
// command line; each Run* returns the process exit code (see ExitCode).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/kafka_client.h"

namespace sluice::tools {

int RunClusterInfo(const GlobalOptions& global);

struct ElectLeadersOptions {
  std::string topic;               // empty: every partition of every topic
  int partition = -1;              // -1: every partition of `topic`
  std::string type = "preferred";  // preferred | unclean
};
// ElectLeaders to the controller; one line per partition with its result.
// Exit 1 if a partition got neither a leader nor ELECTION_NOT_NEEDED.
int RunClusterElectLeaders(const GlobalOptions& global, const ElectLeadersOptions& opts);

struct ReassignOptions {
  std::string topic;
  int partition = 0;
  std::string replicas;  // "2,3,4": the target replicas, preferred leader first
  bool cancel = false;   // instead of replicas: cancel the reassignment in progress
  int64_t throttle = -1;  // bytes/s: throttle the copy first (reassign_throttle.h); -1: none
};
// AlterPartitionReassignments (KIP-455) to the controller for one partition.
// Exit 1 if the controller refused it.
int RunPartitionReassign(const GlobalOptions& global, const ReassignOptions& opts);
// Removes the replication throttle of `topic`'s moves (reassign_throttle.h).
int RunPartitionClearThrottle(const GlobalOptions& global, const std::string& topic);
// ListPartitionReassignments: one line per partition being reassigned, with
// its replicas, those being added and removed, and whether each replica
// being added has joined the ISR.
int RunPartitionReassignments(const GlobalOptions& global);

struct TopicCreateOptions {
  std::string topic;
  int partitions = -1;          // -1: the broker's default.
  int replication_factor = -1;  // -1: the broker's default.
  std::vector<std::string> configs;  // name=value
};
int RunTopicCreate(const GlobalOptions& global, const TopicCreateOptions& opts);

int RunTopicList(const GlobalOptions& global);

struct TopicDescribeOptions {
  std::string topic;         // empty: every topic (with a filter below only)
  bool all_configs = false;  // Also configs left at their defaults.
  // Filters: only the partitions whose ISR is smaller than their replica
  // set, or without a live leader (either, with both), one line each,
  // without offsets or configs.
  bool under_replicated = false;
  bool unavailable = false;
};
int RunTopicDescribe(const GlobalOptions& global, const TopicDescribeOptions& opts);

int RunTopicDelete(const GlobalOptions& global, const std::string& topic);

struct TopicAlterConfigOptions {
  std::string topic;
  std::vector<std::string> set;     // name=value
  std::vector<std::string> remove;  // names, back to the default
};
int RunTopicAlterConfig(const GlobalOptions& global, const TopicAlterConfigOptions& opts);

int RunTopicAddPartitions(const GlobalOptions& global, const std::string& topic, int total);

struct ProduceOptions {
  std::string topic;
  std::optional<std::string> key_separator;
  std::vector<std::string> headers;  // name=value, on every message
  int partition = -1;                // -1: the partitioner picks.
  std::string acks;                  // empty: librdkafka's default (all)
  std::string compression;           // empty: none
  std::optional<std::string> null_value_marker;
};
int RunProduce(const GlobalOptions& global, const ProduceOptions& opts);

struct ConsumeOptions {
  std::string topic;
  bool from_beginning = false;
  std::optional<std::string> offset;    // beginning|end|N|-N
  std::optional<int64_t> timestamp_ms;  // first offset at or after this time
  int partition = -1;                   // -1: all partitions
  int64_t count = -1;                   // -1: no limit
  std::string group;                    // empty: no group, assign partitions
  int idle_timeout_ms = -1;             // -1: wait forever
  bool exit_at_end = false;             // Exit once every partition is read to its end.
  std::string format = "%v\\n";
};
int RunConsume(const GlobalOptions& global, const ConsumeOptions& opts);

struct OffsetsOptions {
  std::string topic;
  std::optional<int64_t> timestamp_ms;
};
int RunOffsets(const GlobalOptions& global, const OffsetsOptions& opts);

}  // namespace sluice::tools
