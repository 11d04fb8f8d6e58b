// ClusterMembership: this broker's part in a ZooKeeper cluster, when
// zookeeper.connect is set: its session, its registration under
// /brokers/ids, the controller election, the controller itself (a
// PartitionStateMachine, active while this broker is elected), and the view
// of the live brokers and the controller that Metadata and DescribeCluster
// answer from. Without zookeeper.connect none of it exists.
//
// Start-up, from BrokerMain, each step before the next:
//   Connect         a ZooKeeper session, within zookeeper.connection.timeout.ms.
//   AgreeClusterId  /cluster/id against meta.properties, before the data is
//                   opened: a data directory of another cluster is refused
//                   (Kafka's InconsistentClusterIdException).
//   Join            once the listeners are bound: registers /brokers/ids/<id>
//                   (refused while a live broker holds the id), watches the
//                   live brokers, runs for controller.
//   Leave           at shutdown: resigns and closes the session, so this
//                   broker's ephemeral znodes go at once, not a session
//                   timeout later.
//
// The controller: when the election makes this broker the controller, the
// state machine is activated with the epoch won and the live brokers; if
// that fails (ZooKeeper failed mid-way) it is retried on the loop after a
// backoff (250 ms doubling to 10 s) until it succeeds or this broker stops
// being the controller (resigned, session expired, deposed, left). Live-set
// changes reach it while it is active; resigning deactivates it.
//
// While this broker is the active controller and auto.leader.rebalance.enable
// holds, an AutoLeaderRebalance checks the leader imbalance every
// leader.imbalance.check.interval.seconds (PartitionStateMachine::
// RebalancePreferredLeaders).
//
// Threads: an EventLoop thread ("controller") runs every registry, election
// and controller event; a TimerThread only posts activation retries and
// leader-imbalance checks to it;
// the ZooKeeper C client has its own threads (ZkSession one more after an
// expiry). Connect, AgreeClusterId, SetControllerChannel, Join and Leave are
// called from the main thread; Current(), LiveBrokers() and AdminZk() from
// any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/cluster_admin.h"
#include "api/cluster_view.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/timer_thread.h"
#include "broker/unsent_controller_channel.h"
#include "config/broker_config.h"
#include "config/listener.h"
#include "controller/auto_leader_rebalance.h"
#include "controller/broker_registry.h"
#include "controller/controller_channel.h"
#include "controller/controller_election.h"
#include "controller/event_loop.h"
#include "controller/partition_state_machine.h"
#include "controller/zk_session.h"
#include "storage/file.h"
#include "zk/znodes.h"

namespace sluice::broker {

// How the controller's decisions leave this broker: the channel, and what it
// must know to reach the brokers. The network channel keeps a connection per
// broker, so it is told which brokers to reach: while this broker is the
// controller, every live broker is added (with its registration: endpoints,
// rack) before anything is sent to it, a broker that leaves the live set is
// removed, and one that registered again (restarted: new timestamp, maybe new
// ports) is removed and added again; on resigning, every broker is removed.
// All three are called on the controller's loop and must not block there.
struct ControllerChannelHooks {
  controller::ControllerChannel* channel = nullptr;
  std::function<void(const zk::BrokerRegistration&)> add_broker;  // may be empty
  std::function<void(int32_t broker_id)> remove_broker;           // may be empty
};

class ClusterMembership : public api::ClusterView, public api::ControllerService {
 public:
  // REQUIRES: config.zookeeper_connect() is set.
  static Result<std::unique_ptr<ClusterMembership>> Connect(const config::BrokerConfig& config);
  ~ClusterMembership() override;  // Leave().
  ClusterMembership(const ClusterMembership&) = delete;
  ClusterMembership& operator=(const ClusterMembership&) = delete;

  // The id of the cluster: the one in /cluster/id, or, if the cluster has
  // none yet, the one in `dir`'s meta.properties (a new one for a fresh
  // directory), written there first. InvalidArgument if meta.properties
  // names another cluster.
  Result<std::string> AgreeClusterId(storage::FileSystem* fs, const std::filesystem::path& dir);

  // The channel the controller sends its decisions through; it must outlive
  // Leave. Without one (not called, or a null channel) the decisions are
  // logged at debug level and not sent: the state of things until the network
  // channel (src/interbroker) is wired in here, not a mode to keep.
  // REQUIRES: before Join.
  void SetControllerChannel(ControllerChannelHooks hooks);

  // Registers this broker with `endpoints` (the advertised listeners, with
  // concrete hosts and ports) and starts the live-broker watch and the
  // election; returns once both have run. Other brokers are reported at
  // their endpoint named like endpoints[0] (a broker without one is left
  // out, as Kafka does). AlreadyExists if a live broker holds this id.
  // REQUIRES: called once; `endpoints` not empty.
  Status Join(const std::vector<config::Listener>& endpoints) EXCLUDES(mu_);

  // Resigns as controller, stops the loop and closes the session.
  // Idempotent. Current() keeps answering with the last state seen.
  void Leave() EXCLUDES(mu_);

  api::ClusterState Current() const override EXCLUDES(mu_);

  // The live brokers as last read from /brokers/ids (registrations with
  // endpoints and racks); empty before Join.
  std::map<int32_t, zk::BrokerRegistration> LiveBrokers() const EXCLUDES(mu_);

  // This broker's controller epoch while it is the controller, else -1
  // (metrics). Thread-safe.
  int32_t ActiveControllerEpoch() const EXCLUDES(mu_);
  // Whether this broker's ZooKeeper session is connected now; false once
  // Leave has begun (metrics). Thread-safe.
  bool ZooKeeperConnected() const EXCLUDES(mu_);

  // api::ControllerService: runs on the loop, through the partition state
  // machine while this broker is the active controller.
  void AlterPartition(
      std::vector<controller::AlterPartitionRequest> changes,
      std::function<void(std::vector<controller::AlterPartitionResult>)> done) override;
  void ElectLeaders(api::ElectionType type,
                    std::optional<std::vector<controller::TopicPartition>> partitions,
                    std::function<void(api::ElectLeadersOutcome)> done) override;
  void AlterPartitionReassignments(
      std::vector<api::ReassignmentChange> changes,
      std::function<void(api::AlterReassignmentsOutcome)> done) override;
  void ListPartitionReassignments(
      std::optional<std::vector<controller::TopicPartition>> partitions,
      std::function<void(api::ListReassignmentsOutcome)> done) override;
  void ControlledShutdown(int32_t broker_id,
                          std::function<void(controller::ControlledShutdownResult)> done) override;

  // Also told of every new session after an expiry (from ZkSession's
  // thread, after the registry and the election; it must only hand work to
  // a thread of its own), or no longer with an empty function. Watches of
  // the expired session are gone: this is where their owners arm them
  // again (ConfigWatcher). Thread-safe.
  void SetOnNewSession(std::function<void()> listener) EXCLUDES(mu_);

  // The current session's client, for admin writes (api::ClusterAdmin), or
  // null once Leave has begun. Leave waits until every client handed out is
  // released before it closes the session, so hold it for one request only.
  std::shared_ptr<zk::ZkClient> AdminZk() EXCLUDES(mu_);

 private:
  explicit ClusterMembership(const config::BrokerConfig& config);
  // The election's callbacks, on the loop.
  void OnElected(controller::ControllerEpoch epoch);
  void OnResigned();
  // Activates the state machine for activation number `activation`, unless
  // a resignation or another election made it stale; on failure schedules
  // the next attempt. On the loop.
  void TryActivate(uint64_t activation, int attempt) EXCLUDES(mu_);
  // Makes the channel's brokers `target` (see ControllerChannelHooks). On the loop.
  void SyncChannelBrokers(const std::map<int32_t, zk::BrokerRegistration>& target);
  // ZkSession's callbacks (its threads): hand over to the registry and
  // election, which post to the loop.
  void OnSessionExpired() EXCLUDES(mu_);
  void OnNewSession() EXCLUDES(mu_);
  // The registry's on_change, on the loop.
  void SetLiveBrokers(const std::map<int32_t, zk::BrokerRegistration>& live) EXCLUDES(mu_);
  // One automatic rebalance check, on the loop.
  void CheckLeaderImbalance();

  const int32_t broker_id_;
  const std::optional<std::string> rack_;
  const int32_t session_timeout_ms_;
  const std::string connect_;
  const bool unclean_leader_election_;
  const int32_t imbalance_percentage_;  // leader.imbalance.per.broker.percentage

  controller::EventLoop loop_;
  // Declared after the loop: destroyed first, so no retry posts to a
  // destroyed loop. Its callbacks only post to the loop.
  TimerThread retry_timer_;
  // Null unless auto.leader.rebalance.enable. Started and stopped on the
  // loop; declared after the timer, so it cancels its check first.
  std::unique_ptr<controller::AutoLeaderRebalance> rebalance_;
  std::unique_ptr<controller::ZkSession> session_;
  bool joined_ = false;  // main thread only: registered
  bool left_ = false;    // main thread only
  ControllerChannelHooks hooks_;  // set before Join, then read on the loop only
  UnsentControllerChannel unsent_channel_;

  // Loop thread only. The state machine is made by Join and lives until the
  // destructor (after the loop stopped).
  std::unique_ptr<controller::PartitionStateMachine> psm_;
  bool leading_ = false;  // elected, between on_elected and on_resigned
  controller::ControllerEpoch epoch_;
  uint64_t activation_ = 0;  // bumped by every election and resignation
  std::map<int32_t, zk::BrokerRegistration> live_;            // as the registry last said
  std::map<int32_t, zk::BrokerRegistration> channel_brokers_;  // what the channel was told

  mutable Mutex mu_;
  // AdminZk's: null once Leave began; clients handed out and not released.
  controller::ZkSession* admin_session_ GUARDED_BY(mu_) = nullptr;
  int admin_leases_ GUARDED_BY(mu_) = 0;
  CondVar admin_released_;
  std::map<int32_t, zk::BrokerRegistration> live_brokers_ GUARDED_BY(mu_);
  // Made by Join; idle once Leave has stopped the loop and closed the session.
  std::unique_ptr<controller::BrokerRegistry> registry_ GUARDED_BY(mu_);
  std::unique_ptr<controller::ControllerElection> election_ GUARDED_BY(mu_);
  std::string listener_name_ GUARDED_BY(mu_);  // whose endpoints Current() reports
  std::vector<api::BrokerEndpoint> brokers_ GUARDED_BY(mu_);
  std::function<void()> on_new_session_ GUARDED_BY(mu_);
};

}  // namespace sluice::broker
