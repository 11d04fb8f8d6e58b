// The records of the `__consumer_offsets` topic, in Kafka's own formats, so
// that anything that reads that topic (Kafka's tools, a future replica)
// understands them. All fields are big-endian, strings int16-length-prefixed
// (-1 = null), bytes int32-length-prefixed. A record with a null value is a
// tombstone that deletes its key (and lets compaction drop it).
//
// key (int16 version first):
//   0, 1  offset commit   group string | topic string | partition int32
//   2     group metadata  group string
// offset commit value, written as version 3 (0-3 are read):
//   v0: offset int64 | metadata string | timestamp int64
//   v1: offset int64 | metadata string | commit_timestamp int64 | expire_timestamp int64
//   v2: offset int64 | metadata string | commit_timestamp int64
//   v3: offset int64 | leader_epoch int32 | metadata string | commit_timestamp int64
// group metadata value, written as version 3 (0-3 are read):
//   protocol_type string | generation int32 | protocol string? | leader string? |
//   current_state_timestamp int64 (v2+) | members int32 count, each:
//     member_id string | group_instance_id string? (v3+) | client_id string |
//     client_host string | rebalance_timeout int32 (v1+) | session_timeout int32 |
//     subscription bytes | assignment bytes
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"

namespace sluice::group {

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};

struct GroupKey {
  std::string group;
  bool operator==(const GroupKey&) const = default;
};

using OffsetsTopicKey = std::variant<OffsetKey, GroupKey>;

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
  bool operator==(const CommittedOffset&) const = default;
};

struct StoredMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::vector<uint8_t> subscription;
  std::vector<uint8_t> assignment;
  bool operator==(const StoredMember&) const = default;
};

struct StoredGroup {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t state_timestamp_ms = -1;
  std::vector<StoredMember> members;
  bool operator==(const StoredGroup&) const = default;
};

std::vector<uint8_t> EncodeKey(const OffsetKey& key);
std::vector<uint8_t> EncodeKey(const GroupKey& key);
std::vector<uint8_t> EncodeValue(const CommittedOffset& value);
std::vector<uint8_t> EncodeValue(const StoredGroup& value);

// Corruption (naming the field) for malformed or unknown-version input.
Result<OffsetsTopicKey> DecodeKey(std::span<const uint8_t> bytes);
Result<CommittedOffset> DecodeOffsetValue(std::span<const uint8_t> bytes);
Result<StoredGroup> DecodeGroupValue(std::span<const uint8_t> bytes);

// The partition of `__consumer_offsets` that holds `group`: Kafka's rule
// (Java String.hashCode of the id, sign bit cleared, modulo the count), so
// a group lands where a Kafka broker would put it.
int32_t OffsetsPartitionFor(std::string_view group, int32_t partition_count);

}  // namespace sluice::group
