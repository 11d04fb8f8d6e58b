// Group: one consumer group's membership, generation, chosen protocol and
// committed offsets, with the rules Kafka's classic protocol derives from
// them (which protocols the members share, who leads, whether everyone has
// rejoined). It holds no locks and starts no timers: GroupCoordinator owns
// every Group and drives the state machine under its own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "group/group_state.h"
#include "group/offsets_record.h"
#include "protocol/error_code.h"

namespace sluice::group {

using ByteVector = std::vector<uint8_t>;

struct ProtocolMetadata {
  std::string name;
  ByteVector metadata;
  bool operator==(const ProtocolMetadata&) const = default;
};

struct JoinGroupResult {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    ByteVector metadata;
  };
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader_id;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<Member> members;  // Only the leader's result lists them.
};

struct SyncGroupResult {
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  ByteVector assignment;
};

using JoinCallback = std::function<void(JoinGroupResult)>;
using SyncCallback = std::function<void(SyncGroupResult)>;

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string protocol_type;
  std::vector<ProtocolMetadata> protocols;
  ByteVector assignment;

  // A JoinGroup (SyncGroup) waiting for the rebalance (the leader's
  // assignment); empty when none waits.
  JoinCallback awaiting_join;
  SyncCallback awaiting_sync;

  // Liveness: the member is expired when the coordinator's Timers clock
  // (monotonic) passes this.
  int64_t session_deadline_ms = 0;
  bool session_timer_armed = false;

  // The metadata this member sent for `protocol`, or null.
  const ByteVector* MetadataFor(std::string_view protocol) const;
};

struct PartitionKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const PartitionKey&) const = default;
};

struct OffsetEntry {
  CommittedOffset value;
  int64_t log_offset = -1;  // Where the commit sits in __consumer_offsets.
};

class Group {
 public:
  Group(std::string id, int64_t now_ms) : id_(std::move(id)), state_timestamp_ms_(now_ms) {}

  const std::string& id() const { return id_; }
  GroupState state() const { return state_; }
  bool Is(GroupState s) const { return state_ == s; }
  void TransitionTo(GroupState s, int64_t now_ms);
  // Wall-clock time of the last state change (for offsets retention).
  int64_t state_timestamp_ms() const { return state_timestamp_ms_; }

  int32_t generation() const { return generation_; }
  const std::optional<std::string>& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol_name() const { return protocol_name_; }
  const std::optional<std::string>& leader() const { return leader_; }
  bool IsLeader(std::string_view member_id) const { return leader_ && *leader_ == member_id; }

  // Members in join order (the first one leads when the leader leaves).
  const std::vector<std::string>& member_order() const { return order_; }
  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  Member* Find(std::string_view member_id);
  const Member* Find(std::string_view member_id) const;
  // The member id currently registered for a static instance id.
  std::optional<std::string> MemberOfInstance(const std::string& instance_id) const;

  void Add(Member member);
  void Remove(std::string_view member_id);
  // A static member rejoined under a new member id: move its state over.
  void ReplaceStaticMember(const std::string& old_id, const std::string& new_id);

  // Member ids handed out with MEMBER_ID_REQUIRED whose owners have not
  // joined with them yet (KIP-394).
  std::set<std::string, std::less<>>& pending_members() { return pending_; }

  // Kafka's compatibility rule: an empty group takes any non-empty protocol
  // type; otherwise the type must match and one protocol must be supported
  // by every member and the newcomer.
  bool SupportsProtocols(std::string_view protocol_type,
                         const std::vector<ProtocolMetadata>& protocols) const;
  bool AllMembersJoined() const;
  int32_t MaxRebalanceTimeoutMs() const;
  size_t AwaitingJoinCount() const;

  // Ends a rebalance: bumps the generation; with members, picks the protocol
  // by vote and moves to CompletingRebalance, else to Empty.
  void InitNextGeneration(int64_t now_ms);
  // Every member's metadata for the chosen protocol (the leader's view).
  std::vector<JoinGroupResult::Member> CurrentMemberMetadata() const;

  // Restores what StoredGroup recorded (start-up).
  void LoadFrom(const StoredGroup& stored, int64_t now_ms);
  StoredGroup ToStored() const;

  std::map<PartitionKey, OffsetEntry>& offsets() { return offsets_; }
  const std::map<PartitionKey, OffsetEntry>& offsets() const { return offsets_; }

  // Bumped whenever a rebalance starts; timers armed for one rebalance
  // check it so that they do nothing for a later one.
  uint64_t rebalance_epoch() const { return rebalance_epoch_; }
  void BumpRebalanceEpoch() { ++rebalance_epoch_; }
  // Starts the count at `epoch`: a group made again after its coordinator
  // dropped it (a partition unloaded and loaded back) must not match the
  // timers still armed for the dropped one.
  void SeedRebalanceEpoch(uint64_t epoch) { rebalance_epoch_ = epoch; }

  // During the initial delay of a group's first rebalance (Kafka's
  // group.initial.rebalance.delay.ms) the join is not completed early.
  bool in_initial_delay = false;
  bool new_member_during_delay = false;
  int64_t rebalance_started_ms = 0;  // On the coordinator's Timers clock.

 private:
  // The protocol most members prefer among those all of them support.
  std::string SelectProtocol() const;
  bool EveryMemberSupports(std::string_view protocol) const;

  const std::string id_;
  GroupState state_ = GroupState::kEmpty;
  int64_t state_timestamp_ms_;
  int32_t generation_ = 0;
  std::optional<std::string> protocol_type_;
  std::optional<std::string> protocol_name_;
  std::optional<std::string> leader_;
  std::map<std::string, Member, std::less<>> members_;
  std::vector<std::string> order_;
  std::map<std::string, std::string, std::less<>> static_members_;  // instance id -> member id
  std::set<std::string, std::less<>> pending_;
  std::map<PartitionKey, OffsetEntry> offsets_;
  uint64_t rebalance_epoch_ = 0;
};

}  // namespace sluice::group
