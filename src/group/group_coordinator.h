// GroupCoordinator: Kafka's classic group protocol for every group this
// broker coordinates (on a single node, all of them).
//
// Membership: JoinGroup / SyncGroup / Heartbeat / LeaveGroup move each
// Group through its states (group_state.h); a rebalance ends when every
// member has rejoined or the rebalance timeout passes; a member that stops
// heartbeating is removed after its session timeout. Member ids are handed
// out by the coordinator (KIP-394), static members keep their partitions
// across restarts (KIP-345). Assignment is the clients' business: the
// leader computes it, the coordinator only carries it.
//
// Offsets: OffsetCommit / OffsetFetch / OffsetDelete, stored in
// __consumer_offsets through GroupLog and loaded back by Start().
//
// In a cluster (GroupLog::in_cluster) a broker coordinates only the groups
// of the __consumer_offsets partitions it leads, as Kafka's coordinators
// do: OnLeadership loads a partition's groups when this broker becomes its
// leader and drops them when it stops leading. Requests for any other
// group answer NOT_COORDINATOR (the client looks the coordinator up again),
// and COORDINATOR_LOAD_IN_PROGRESS while its partition is being loaded.
//
// Thread-safe: one mutex guards every group (group traffic is light next to
// produce and fetch, which never touch it). Callbacks are always run after
// that mutex is released, on the calling, timer or flusher thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/timers.h"
#include "config/broker_config.h"
#include "group/group.h"
#include "group/group_log.h"
#include "group/offset_observer.h"
#include "base/mutex.h"

namespace sluice::group {

struct CoordinatorOptions {
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  int32_t initial_rebalance_delay_ms = 3000;
  int32_t max_group_size = INT32_MAX;
  int32_t offset_metadata_max_bytes = 4096;
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t offsets_retention_check_interval_ms = 600000;
  // Wall-clock milliseconds: what commits and group records are stamped
  // with and offsets expire by. Empty: the system clock. (Deadlines, i.e.
  // sessions and rebalances, run on the Timers' own monotonic clock.)
  std::function<int64_t()> clock;

  static CoordinatorOptions FromConfig(const config::BrokerConfig& config);
};

struct JoinParams {
  std::string group_id;
  std::string member_id;  // Empty on a first join.
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<ProtocolMetadata> protocols;
  // JoinGroup v4+: a first join gets MEMBER_ID_REQUIRED and a member id.
  bool require_known_member_id = false;
};

struct SyncParams {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, ByteVector>> assignments;  // Leader only.
};

struct MemberIdentity {
  std::string member_id;  // May be empty when group_instance_id is set.
  std::optional<std::string> group_instance_id;
};

struct OffsetCommitParams {
  struct Partition {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
  };
  std::string group_id;
  int32_t generation_id = -1;  // -1 with an empty member id: a standalone commit.
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<Partition> partitions;
};

struct PartitionError {
  std::string topic;
  int32_t partition = 0;
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
};

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;  // -1: nothing committed.
  int32_t leader_epoch = -1;
  std::string metadata;
};

struct GroupDescription {
  struct MemberInfo {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    ByteVector metadata;
    ByteVector assignment;
  };
  protocol::ErrorCode error = protocol::ErrorCode::NONE;
  std::string group_id;
  GroupState state = GroupState::kDead;
  std::string protocol_type;
  std::string protocol;  // Only for a Stable group, as Kafka reports it.
  std::vector<MemberInfo> members;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  GroupState state = GroupState::kEmpty;
};

struct CommittedOffsetInfo {
  std::string group_id;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
};

class GroupCoordinator {
 public:
  // `log` and `timers` must outlive the coordinator.
  GroupCoordinator(CoordinatorOptions options, GroupLog& log, Timers& timers);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Tells `observer` (which must outlive the coordinator) about every
  // committed offset from now on. Call before Start.
  void SetObserver(OffsetObserver* observer) { observer_ = observer; }

  // Loads every group and its offsets from __consumer_offsets (in a
  // cluster, none: OnLeadership loads them). Loaded members keep their
  // generation and assignment and get a fresh session.
  Status Start();

  // In a cluster: this broker now leads (`is_leader`) or no longer leads
  // partition `index` of __consumer_offsets. Leading, its groups are loaded
  // by replaying the partition (blocking; requests for them answer
  // COORDINATOR_LOAD_IN_PROGRESS meanwhile); not leading, they are dropped
  // and whoever waits on them is answered NOT_COORDINATOR. Calls must come
  // in the order the changes were applied (the metadata thread's).
  void OnLeadership(int32_t index, bool is_leader) EXCLUDES(mu_);
  // Whether this coordinator serves `group_id` now.
  bool Serves(const std::string& group_id) EXCLUDES(mu_);
  // Answers every waiting request with NOT_COORDINATOR and stops timers'
  // effects. Call before the timer thread and the group log go away.
  void Shutdown();

  // Ensures the offsets topic exists (FindCoordinator does this first).
  Status EnsureReady();

  void JoinGroup(JoinParams params, JoinCallback done);
  void SyncGroup(SyncParams params, SyncCallback done);
  protocol::ErrorCode Heartbeat(const std::string& group_id, int32_t generation_id,
                                const std::string& member_id,
                                const std::optional<std::string>& group_instance_id);
  // Per member errors, in order; the top-level error is for the group.
  std::pair<protocol::ErrorCode, std::vector<protocol::ErrorCode>> LeaveGroup(
      const std::string& group_id, const std::vector<MemberIdentity>& members);

  // `done` gets one error per partition, in request order.
  void CommitOffsets(OffsetCommitParams params,
                     std::function<void(std::vector<protocol::ErrorCode>)> done);
  // nullopt partitions: every committed offset of the group.
  std::pair<protocol::ErrorCode, std::vector<FetchedOffset>> FetchOffsets(
      const std::string& group_id, const std::optional<std::vector<PartitionKey>>& partitions);
  // `done` gets the group error and one error per partition.
  void DeleteOffsets(const std::string& group_id, std::vector<PartitionKey> partitions,
                     std::function<void(protocol::ErrorCode, std::vector<PartitionError>)> done);

  GroupDescription DescribeGroup(const std::string& group_id);
  std::vector<GroupListing> ListGroups(const std::vector<GroupState>& states);
  // `done` gets one error per group, in order.
  void DeleteGroups(std::vector<std::string> group_ids,
                    std::function<void(std::vector<protocol::ErrorCode>)> done);

  // Every committed offset (for the lag metrics).
  std::vector<CommittedOffsetInfo> CommittedOffsets();

  // Removes expired offsets of empty groups now (normally periodic).
  void ExpireOffsets(int64_t now_ms);

 private:
  using Deferred = std::vector<std::function<void()>>;
  friend class GroupCoordinatorTestPeer;

  Group* FindGroup(const std::string& group_id) REQUIRES(mu_);
  // NONE when this coordinator serves `group_id`; NOT_COORDINATOR (closed,
  // or in a cluster a partition not led here) or COORDINATOR_LOAD_IN_PROGRESS.
  protocol::ErrorCode CoordinatorError(const std::string& group_id) const REQUIRES(mu_);
  // Drops the groups of offsets partition `index` (see OnLeadership).
  void UnloadPartitionLocked(int32_t index, Deferred& out) REQUIRES(mu_);
  // Makes groups of the stored group records read by a replay; their
  // members get a fresh session. Returns how many members were loaded.
  size_t InstallStoredGroups(std::map<std::string, std::optional<StoredGroup>>& stored)
      REQUIRES(mu_);
  Group& GetOrCreateGroup(const std::string& group_id) REQUIRES(mu_);

  // Membership (group_coordinator.cc).
  void JoinUnknownMember(Group& g, JoinParams& params, JoinCallback& done, Deferred& out)
      REQUIRES(mu_);
  void JoinKnownMember(Group& g, JoinParams& params, JoinCallback& done, Deferred& out)
      REQUIRES(mu_);
  void AddMemberAndRebalance(Group& g, JoinParams& params, std::string member_id,
                             JoinCallback done, Deferred& out) REQUIRES(mu_);
  void UpdateMemberAndRebalance(Group& g, Member& m, JoinParams& params, JoinCallback done,
                                Deferred& out) REQUIRES(mu_);
  void MaybePrepareRebalance(Group& g, const std::string& reason, Deferred& out) REQUIRES(mu_);
  void PrepareRebalance(Group& g, const std::string& reason, Deferred& out) REQUIRES(mu_);
  void MaybeCompleteJoin(Group& g, Deferred& out) REQUIRES(mu_);
  void CompleteJoin(Group& g, Deferred& out) REQUIRES(mu_);
  void RemoveMemberAndUpdateGroup(Group& g, const std::string& member_id,
                                  const std::string& reason, Deferred& out) REQUIRES(mu_);
  void PropagateAssignment(Group& g, protocol::ErrorCode error, Deferred& out) REQUIRES(mu_);
  void PersistGroupThenStable(Group& g, Deferred& out) REQUIRES(mu_);
  JoinGroupResult CurrentJoinResult(const Group& g, const std::string& member_id) const
      REQUIRES(mu_);
  void TouchSession(Group& g, Member& m) REQUIRES(mu_);
  void ArmSessionTimer(const std::string& group_id, const std::string& member_id, int64_t due_ms)
      REQUIRES(mu_);
  void OnSessionTimer(const std::string& group_id, const std::string& member_id) EXCLUDES(mu_);
  void ArmPendingMemberTimer(const std::string& group_id, const std::string& member_id,
                             int32_t timeout_ms) REQUIRES(mu_);
  void ArmRebalanceTimer(Group& g, int64_t delay_ms) REQUIRES(mu_);
  void OnRebalanceTimer(const std::string& group_id, uint64_t epoch) EXCLUDES(mu_);
  protocol::ErrorCode ValidateStaticMember(Group& g, const std::string& member_id,
                                           const std::optional<std::string>& instance_id) const
      REQUIRES(mu_);

  // Persistence (group_coordinator_store.cc).
  void StoreGroup(Group& g, std::function<void(Status)> done, Deferred& out) REQUIRES(mu_);
  Status LoadRecord(int64_t offset, std::span<const uint8_t> key,
                    std::optional<std::span<const uint8_t>> value,
                    std::map<std::string, std::optional<StoredGroup>>& stored_groups)
      REQUIRES(mu_);
  void ScheduleRetentionCheck();

  static void Run(Deferred& out);
  int64_t WallNow() const { return options_.clock(); }
  // Queues observer calls for offsets that are gone.
  void NotifyRemoved(const std::string& group_id, std::vector<PartitionKey> keys, Deferred& out)
      REQUIRES(mu_);

  const CoordinatorOptions options_;
  GroupLog& log_;
  Timers& timers_;
  OffsetObserver* observer_ = nullptr;

  Mutex mu_;
  std::map<std::string, std::unique_ptr<Group>, std::less<>> groups_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  // In a cluster: the offsets partitions led here; false while loading.
  std::map<int32_t, bool> led_partitions_ GUARDED_BY(mu_);
  // Above every rebalance epoch of a group dropped by UnloadPartitionLocked;
  // new groups start their count here (0 on a single node, which drops none).
  uint64_t rebalance_epoch_floor_ GUARDED_BY(mu_) = 0;
  uint64_t next_member_suffix_ GUARDED_BY(mu_) = 0;
};

// The system clock in milliseconds (CoordinatorOptions::clock's default).
int64_t WallNowMs();

}  // namespace sluice::group
