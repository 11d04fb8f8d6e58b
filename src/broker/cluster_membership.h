// ClusterMembership: this broker's part in a ZooKeeper cluster, when
// zookeeper.connect is set: its session, its registration under
// /brokers/ids, the controller election, and the view of the live brokers
// and the controller that Metadata and DescribeCluster answer from. Without
// zookeeper.connect none of it exists.
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
// Threads: an EventLoop thread ("controller") runs every registry and
// election event; the ZooKeeper C client has its own threads (ZkSession one
// more after an expiry). Connect, AgreeClusterId, Join and Leave are called
// from the main thread; Current() from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/cluster_view.h"
#include "base/mutex.h"
#include "base/status.h"
#include "config/broker_config.h"
#include "config/listener.h"
#include "controller/broker_registry.h"
#include "controller/controller_election.h"
#include "controller/event_loop.h"
#include "controller/zk_session.h"
#include "storage/file.h"

namespace sluice::broker {

class ClusterMembership : public api::ClusterView {
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

 private:
  explicit ClusterMembership(const config::BrokerConfig& config);
  // ZkSession's callbacks (its threads): hand over to the registry and
  // election, which post to the loop.
  void OnSessionExpired() EXCLUDES(mu_);
  void OnNewSession() EXCLUDES(mu_);
  // The registry's on_change, on the loop.
  void SetLiveBrokers(const std::map<int32_t, zk::BrokerRegistration>& live) EXCLUDES(mu_);

  const int32_t broker_id_;
  const std::optional<std::string> rack_;
  const int32_t session_timeout_ms_;
  const std::string connect_;

  controller::EventLoop loop_;
  std::unique_ptr<controller::ZkSession> session_;
  bool joined_ = false;  // main thread only: registered
  bool left_ = false;    // main thread only

  mutable Mutex mu_;
  // Made by Join; idle once Leave has stopped the loop and closed the session.
  std::unique_ptr<controller::BrokerRegistry> registry_ GUARDED_BY(mu_);
  std::unique_ptr<controller::ControllerElection> election_ GUARDED_BY(mu_);
  std::string listener_name_ GUARDED_BY(mu_);  // whose endpoints Current() reports
  std::vector<api::BrokerEndpoint> brokers_ GUARDED_BY(mu_);
};

}  // namespace sluice::broker
