// `sluice group list|describe|delete|reset-offsets`, after Kafka's
// kafka-consumer-groups.sh. Each Run* returns the process exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/kafka_client.h"

namespace sluice::tools {

struct GroupListOptions {
  std::string states;  // Comma-separated state names; empty: all groups.
  bool json = false;
};
int RunGroupList(const GlobalOptions& global, const GroupListOptions& opts);

struct GroupDescribeOptions {
  std::string group;
  bool json = false;
};
int RunGroupDescribe(const GlobalOptions& global, const GroupDescribeOptions& opts);

int RunGroupDelete(const GlobalOptions& global, const std::vector<std::string>& groups);

struct GroupResetOptions {
  std::string group;
  std::string topic;
  std::vector<int32_t> partitions;  // Empty: every partition of the topic.
  // Exactly one of these five chooses the new offsets.
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<int64_t> shift_by;
  std::optional<std::string> to_datetime;
  bool execute = false;  // Without it only the plan is printed.
};
int RunGroupResetOffsets(const GlobalOptions& global, const GroupResetOptions& opts);

}  // namespace sluice::tools
