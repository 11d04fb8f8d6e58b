// PartitionStateMachine: the controller's model of every partition, and its
// decisions about leaders and ISRs (Kafka's ZooKeeper-mode controller).
//
// While this broker is the controller, its owner calls Activate (with the
// epoch ControllerElection won) and then feeds it the live broker set from
// BrokerRegistry, AlterPartition requests from partition leaders and
// preferred-leader elections. The machine itself watches ZooKeeper for new
// topics (children of /brokers/topics), added partitions (each topic's
// assignment node) and deletion requests (children of /admin/delete_topics);
// those watches post events to the loop.
//
// Each partition's state (leader, leader epoch, ISR) lives in its znode
// /brokers/topics/<t>/partitions/<p>/state, which only the controller
// writes. The machine keeps each state with the znode version it last read or
// wrote, and every write is one ZooKeeper transaction that starts with a
// check that /controller_epoch still has the version this controller's
// election wrote, and then writes the state conditional on its version. So a
// controller that was deposed without noticing has its writes refused: on
// seeing that, it becomes `deposed()` and decides nothing more. A state that
// moved on (a version conflict) is read again and decided again, once.
// Then the brokers are told through the ControllerChannel: LeaderAndIsr to
// every live replica of a changed partition, UpdateMetadata to every live
// broker.
//
// A broker that is stopping asks for a controlled shutdown first
// (ControlledShutdown): its leaderships move while it still serves, so
// clients see a leader change instead of a session timeout.
//
// Choices where Kafka's design leaves room:
//  * A new partition none of whose replicas is live gets no state znode (as
//    in Kafka, it stays "new"); it is initialized when one comes.
//  * Deleting a topic sends StopReplica (delete) to the live brokers holding
//    its replicas and removes its znodes at once, without waiting for their
//    answers as Kafka does. A replica on a broker that was away is dropped
//    when that broker comes back: its LeaderAndIsr then lists every partition
//    it holds (`full`), and anything else on its disk is stray.
//  * unclean.leader.election.enable is one option for every topic for now.
//
// Threads: single-threaded by contract. Every method runs on `loop`'s thread
// (the owner posts to it), and so do the watches' events. Destroy it on
// that thread or after the loop has stopped; watch events left queued after
// that are dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "controller/controller_channel.h"
#include "controller/controller_election.h"
#include "controller/event_loop.h"
#include "controller/reassignment.h"
#include "controller/topic_id.h"
#include "controller/zk_session.h"
#include "zk/znodes.h"

namespace sluice::controller {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// What the controller knows of one partition.
struct PartitionModel {
  std::vector<int32_t> replicas;            // the assignment, preferred leader first
  // A reassignment in progress (controller/reassignment.h): `replicas` is
  // then RS, these the replicas being added and removed. Both empty: none.
  std::vector<int32_t> adding;
  std::vector<int32_t> removing;
  std::optional<zk::PartitionState> state;  // nullopt: no state znode yet
  int32_t version = -1;                     // the state znode's version
};

struct TopicModel {
  TopicUuid id = kNoTopicUuid;
  std::map<int32_t, PartitionModel> partitions;
};

struct PartitionStateMachineOptions {
  int32_t broker_id = -1;  // this broker, the controller id in requests
  // unclean.leader.election.enable: with no live ISR member, a live replica
  // outside the ISR may lead (losing what only the ISR had).
  bool unclean_leader_election = false;
};

struct AlterPartitionRequest {
  int32_t broker_id = -1;  // the sender, who must lead the partition
  std::string topic;
  int32_t partition = 0;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;  // the state version the leader knows
  std::vector<int32_t> new_isr;
};

// Kafka's error codes for AlterPartition.
enum class AlterPartitionError {
  kNone,
  kNotController,            // NOT_CONTROLLER: inactive or deposed
  kUnknownTopicOrPartition,  // UNKNOWN_TOPIC_OR_PARTITION (also: being deleted, no state)
  kFencedLeaderEpoch,        // FENCED_LEADER_EPOCH: not the leader of the current epoch
  kInvalidUpdateVersion,     // INVALID_UPDATE_VERSION: the state moved on
  kIneligibleReplica,        // INELIGIBLE_REPLICA: an ISR member is not live
  kInvalidRequest,           // INVALID_REQUEST: empty ISR, leader not in it, a non-replica, twice
  kWriteFailed,              // UNKNOWN_SERVER_ERROR: ZooKeeper failed; the leader retries
};
const char* AlterPartitionErrorName(AlterPartitionError e);

struct AlterPartitionResult {
  AlterPartitionError error = AlterPartitionError::kNone;
  zk::PartitionState state;     // on kNone: the state now in ZooKeeper
  int32_t partition_epoch = -1;  // and its version
};

// Kafka's error codes for ControlledShutdown.
enum class ControlledShutdownError {
  kNone,
  kNotController,       // NOT_CONTROLLER: inactive or deposed
  kBrokerNotAvailable,  // BROKER_NOT_AVAILABLE: the broker is not live
};
const char* ControlledShutdownErrorName(ControlledShutdownError e);

struct ControlledShutdownResult {
  ControlledShutdownError error = ControlledShutdownError::kNone;
  // On kNone: the partitions the broker still leads (no other live ISR
  // member could take over, or the write failed).
  std::vector<TopicPartition> remaining;
};

// Kafka's ElectLeaders error codes, per partition.
enum class ElectionError {
  kNone,
  kNotController,
  kUnknownTopicOrPartition,
  kElectionNotNeeded,          // ELECTION_NOT_NEEDED
  kPreferredLeaderNotAvailable,  // PREFERRED_LEADER_NOT_AVAILABLE
  kEligibleLeadersNotAvailable,  // ELIGIBLE_LEADERS_NOT_AVAILABLE (unclean: no live replica)
  kWriteFailed,
};

class PartitionStateMachine {
 public:
  PartitionStateMachine(ZkSession* session, EventLoop* loop, ControllerChannel* channel,
                        PartitionStateMachineOptions options);
  ~PartitionStateMachine();
  PartitionStateMachine(const PartitionStateMachine&) = delete;
  PartitionStateMachine& operator=(const PartitionStateMachine&) = delete;

  // This broker became the controller in `epoch`; `live` are the live
  // brokers. Reads every topic's assignment and partition state, sets the
  // watches, initializes partitions without state, elects leaders where the
  // leader is not live and drops dead brokers from ISRs, then sends every
  // live broker a full UpdateMetadata and LeaderAndIsr for all its replicas,
  // and starts the deletions pending. An error (ZooKeeper failed) leaves it
  // inactive; the owner may call Activate again.
  // REQUIRES: on the loop.
  Status Activate(ControllerEpoch epoch, std::map<int32_t, zk::BrokerRegistration> live);
  // This broker stopped being the controller: forget the model; watches
  // that fire later do nothing. REQUIRES: on the loop.
  void Deactivate();
  bool active() const { return active_; }
  // A write found /controller_epoch moved on: another controller took over.
  bool deposed() const { return deposed_; }

  // The live set changed (BrokerRegistry's on_change). Brokers gone: their
  // leaderships move, they leave ISRs. Brokers come (or re-registered with a
  // new timestamp, that is restarted): full UpdateMetadata and LeaderAndIsr
  // for all their replicas; offline partitions whose ISR they are in get them
  // as leaders. REQUIRES: on the loop.
  void OnBrokersChanged(std::map<int32_t, zk::BrokerRegistration> live);

  // A leader's ISR change (KIP-497). The leader epoch stays (ISR changes do
  // not bump it); the partition epoch (the znode version) does. The same ISR
  // sent again (a retry after a lost answer) answers the current state even
  // with an older partition epoch. REQUIRES: on the loop.
  AlterPartitionResult AlterPartition(const AlterPartitionRequest& request);

  // Broker `broker_id` is about to stop (Kafka's controlled shutdown). It is
  // marked shutting down: from now until it leaves the live set or
  // registers again (restarted) it is never chosen as a leader nor added to
  // an ISR (elections skip it, AlterPartition refuses it as
  // INELIGIBLE_REPLICA). Every partition it leads moves to the first live,
  // not shutting down ISR member in assignment order (leader epoch + 1, the
  // broker out of the ISR), every ISR it follows in loses it (leader epoch
  // + 1), and it is sent StopReplica (logs kept) for every partition it no
  // longer leads, so that it stops fetching. Answers the partitions it still
  // leads; the broker asks again while there are some. Idempotent.
  // The broker epoch is not checked: this code base registers none yet.
  // REQUIRES: on the loop.
  ControlledShutdownResult ControlledShutdown(int32_t broker_id);
  // The live brokers in a controlled shutdown. REQUIRES: on the loop.
  const std::set<int32_t>& shutting_down() const { return shutting_down_; }

  // Moves leadership of each partition to its preferred replica where that
  // is live and in the ISR (leader epoch + 1). REQUIRES: on the loop.
  std::map<TopicPartition, ElectionError> ElectPreferredLeaders(
      const std::vector<TopicPartition>& partitions);

  // An unclean election on demand (ElectLeaders type 1, KIP-460; whatever
  // unclean_leader_election says): for each partition without a live
  // leader, a live ISR member leads if there is one, else the first live
  // replica alone (DecideUnclean); leader epoch + 1. kElectionNotNeeded
  // where the leader is live, kEligibleLeadersNotAvailable where no replica
  // is. REQUIRES: on the loop.
  std::map<TopicPartition, ElectionError> ElectUncleanLeaders(
      const std::vector<TopicPartition>& partitions);

  // One automatic rebalance check (auto.leader.rebalance.enable): elects
  // the preferred replicas PartitionsToRebalance picks for
  // `imbalance_percentage` (controller/leader_imbalance.h). Returns what
  // was tried. REQUIRES: on the loop.
  std::map<TopicPartition, ElectionError> RebalancePreferredLeaders(int32_t imbalance_percentage);

  // AlterPartitionReassignments (KIP-455) for one partition: `target` the
  // new replicas, nullopt to cancel the reassignment in progress (back to
  // the original replicas). Validates (ValidateTarget against the live
  // brokers), writes RS/adding/removing into the topic znode, bumps the
  // leader epoch and sends LeaderAndIsr to every replica of RS, so the
  // replicas being added start fetching. The reassignment completes, here
  // or when a later ISR change (AlterPartition), live-set change or
  // activation finds every target replica in the ISR: the state gets
  // the ISR without the replicas leaving (and a target replica as leader
  // if needed), the topic znode RS := TRS with nothing adding or
  // removing, and the removed replicas StopReplica with deletion. A target equal to the replicas with nothing
  // in progress changes nothing. `why` gets the reason of an error.
  // REQUIRES: on the loop.
  ReassignmentError Reassign(const TopicPartition& tp,
                             const std::optional<std::vector<int32_t>>& target, std::string* why);

  // The model, for the owner and tests. REQUIRES: on the loop.
  const std::map<std::string, TopicModel>& topics() const { return topics_; }
  std::optional<PartitionModel> partition(const TopicPartition& tp) const;

 private:
  // The outcome of the writes of one Apply.
  struct Applied {
    std::set<TopicPartition> written;
    std::set<TopicPartition> created;  // written, and new (is_new)
    std::set<TopicPartition> failed;
  };
  using Decider = std::function<std::optional<zk::PartitionState>(const TopicPartition&,
                                                                  const PartitionModel&)>;
  class Batch;

  // Decides with `decide` for each of `tps` and writes what changed; a
  // version conflict is read again and decided again once.
  Applied Apply(zk::ZkClient& zk, const std::vector<TopicPartition>& tps, const Decider& decide);
  // Writes `next` for each partition (creating the state znode where the
  // model has none), in transactions guarded by the epoch check. Fills
  // `applied`; returns the partitions that hit a conflict.
  std::vector<TopicPartition> Write(zk::ZkClient& zk,
                                    const std::vector<std::pair<TopicPartition, zk::PartitionState>>& next,
                                    Applied* applied);
  // One partition's write, when a batch failed.
  enum class WriteOutcome { kWritten, kConflict, kFailed };
  WriteOutcome WriteOne(zk::ZkClient& zk, const TopicPartition& tp, const zk::PartitionState& next);
  // After a failed write: true (and deposed_) if /controller_epoch moved on.
  bool CheckDeposed(zk::ZkClient& zk);
  // Re-reads one partition's state into the model.
  void Reread(zk::ZkClient& zk, const TopicPartition& tp);
  zk::ZkOp EpochCheck() const;

  // Reads a topic's assignment (arming its watch) and the states of its
  // partitions not in the model yet, which it adds (and lists in `added`).
  Status LoadTopic(zk::ZkClient& zk, const std::string& topic,
                   std::vector<TopicPartition>* added);
  // Watch events and what they run (on the loop).
  zk::Watcher PostOnChange(std::function<void()> event);
  void WatchTopics(zk::ZkClient& zk, std::vector<std::string>* children);
  void OnTopicsChanged();
  void OnAssignmentChanged(const std::string& topic);
  void OnDeletionsChanged();
  void DeleteTopic(zk::ZkClient& zk, const std::string& topic);
  Status RemoveTopicZnodes(zk::ZkClient& zk, const std::string& topic);

  // Completes the reassignments of `tps` whose target replicas are all in
  // the ISR (see Reassign), telling the brokers through `batch`.
  void CompleteReassignments(zk::ZkClient& zk, const std::vector<TopicPartition>& tps,
                             Batch& batch);
  // The partitions with a reassignment in progress.
  std::vector<TopicPartition> Reassigning() const;

  std::set<int32_t> LiveIds() const;
  // The live brokers not shutting down: those that may lead or join an ISR.
  std::set<int32_t> ElectableIds() const;
  // Before the live set becomes `live`: a broker shutting down that left it
  // or registered again is no longer shutting down.
  void ForgetShutdowns(const std::map<int32_t, zk::BrokerRegistration>& live);
  std::vector<TopicPartition> AllPartitions() const;
  PartitionLeaderInfo Info(const TopicPartition& tp) const;
  // Whether the machine may act (active and not deposed).
  bool Acting() const { return active_ && !deposed_; }

  ZkSession* const session_;
  EventLoop* const loop_;
  ControllerChannel* const channel_;
  const PartitionStateMachineOptions options_;

  // Loop thread only (see the header comment).
  bool active_ = false;
  bool deposed_ = false;
  ControllerEpoch epoch_;
  // Bumped by Activate and Deactivate: a watch armed under an older
  // generation is stale.
  uint64_t generation_ = 0;
  std::map<int32_t, zk::BrokerRegistration> live_;
  std::set<int32_t> shutting_down_;  // live brokers in a controlled shutdown
  std::map<std::string, TopicModel> topics_;
  // Watches set and not fired yet (one per node, so re-reads do not pile
  // them up).
  bool topics_watch_armed_ = false;
  bool deletions_watch_armed_ = false;
  std::set<std::string> assignment_watches_armed_;
  // Lets a watch event queued on the loop see that the machine is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace sluice::controller
