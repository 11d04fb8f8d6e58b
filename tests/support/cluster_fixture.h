// BrokerCluster: a ZooKeeper ensemble and three sluice-broker processes that
// form one cluster, for tests that break it (tests/faults/).
//
//   BrokerCluster cluster({.zookeeper_servers = 3});
//   ASSERT_TRUE(cluster.Start().ok()) << cluster.Outputs();
//   ... cluster.broker(2).Kill(); cluster.StartBroker(2); ...
//   ASSERT_TRUE(cluster.StopBrokers().ok());  // clean stops, exit code 0 each
//
// Brokers are numbered 1..n (broker.id); each keeps its data directory,
// its port (the first start picks a free one) and its listener host, log dir
// and exec prefix (set with Configure before it starts) across restarts.
// __consumer_offsets gets three replicas, as in Kafka. Sessions are short
// (zookeeper.session.timeout.ms=3000, replica.lag.time.max.ms=4000) so that
// failures are noticed within seconds. Not thread-safe: one test thread
// drives it (the brokers die with that thread, see broker_process.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "support/broker_process.h"
#include "support/temp_dir.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::testing {

struct BrokerClusterOptions {
  int zookeeper_servers = 1;
  int brokers = 3;
  // Where ZooKeeper and (unless Configure says otherwise) the brokers listen.
  std::string host = "127.0.0.1";
  int session_timeout_ms = 3000;
  int replica_lag_time_max_ms = 4000;
  int replica_fetch_backoff_ms = 200;
  // More "key=value" overrides for every broker.
  std::vector<std::string> overrides;
};

// How one broker is started, kept across its restarts.
struct BrokerSetup {
  std::string host;                      // listener host; empty: the cluster's
  std::vector<std::string> exec_prefix;  // BrokerProcessOptions::exec_prefix
  std::filesystem::path log_dir;         // empty: <its own temp dir>/data
};

class BrokerCluster {
 public:
  static constexpr char kChroot[] = "/sluice";

  explicit BrokerCluster(BrokerClusterOptions options = {});
  ~BrokerCluster();  // Kills what still runs.
  BrokerCluster(const BrokerCluster&) = delete;
  BrokerCluster& operator=(const BrokerCluster&) = delete;

  // REQUIRES: before Start (or before the broker's next StartBroker).
  void Configure(int32_t id, BrokerSetup setup);

  // Starts ZooKeeper and every broker, and waits until all are registered
  // and one is controller.
  Status Start();
  // (Re)starts broker `id` with its setup; returns once it is ready (it has
  // registered in ZooKeeper then).
  Status StartBroker(int32_t id);
  // SIGTERMs every running broker and waits; an error names each broker
  // that did not exit 0.
  Status StopBrokers();

  // The broker's process is running (started, and neither exited nor
  // killed): it is not a zombie waiting to be reaped.
  bool Alive(int32_t id);
  BrokerProcess& broker(int32_t id) { return *brokers_[static_cast<size_t>(id - 1)]; }
  int size() const { return static_cast<int>(brokers_.size()); }
  ZooKeeperEnsemble& zookeeper() { return zk_; }
  // ZooKeeper connect string with the brokers' chroot.
  std::string zk_connect() const { return zk_.connect_string() + kChroot; }
  // host:port of every running broker, comma-separated.
  std::string Bootstrap() const;
  // The broker's log directory (its one log.dirs entry).
  std::filesystem::path LogDir(int32_t id) const;

  // Read through the cluster's own ZooKeeper session (zk::ZkClient waits
  // out a lost connection; an expired session is replaced). These reads,
  // unlike the rest of the class, may come from any thread: a process holds
  // one session, as the ZooKeeper C client formats its log lines in a
  // static buffer that two handles logging at once would share.
  std::set<int32_t> LiveIds();
  int32_t Controller();
  std::optional<zk::PartitionState> State(const std::string& topic, int32_t partition);
  // The state with its znode version (which every controller write bumps).
  std::optional<std::pair<zk::PartitionState, int32_t>> VersionedState(const std::string& topic,
                                                                        int32_t partition);
  // Every partition of `topic` has a leader and an ISR of all brokers.
  bool FullyReplicated(const std::string& topic, int partitions);
  // Partitions of `topic` that `id` leads right now.
  std::set<int32_t> LedBy(int32_t id, const std::string& topic, int partitions);

  // The same session, for reads the helpers above do not cover (and so
  // from any thread too); null if ZooKeeper cannot be reached right now.
  std::shared_ptr<zk::ZkClient> Session() { return Zk(); }

  // The last `bytes` of every broker's output, for failure messages.
  std::string Outputs(size_t bytes = 6000) const;

 private:
  // The session, reconnected if it expired; null if ZooKeeper cannot be
  // reached right now.
  std::shared_ptr<zk::ZkClient> Zk();

  BrokerClusterOptions options_;
  ZooKeeperEnsemble zk_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<BrokerSetup> setups_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
  std::mutex zk_mu_;
  std::shared_ptr<zk::ZkClient> zk_client_;  // guarded by zk_mu_
};

}  // namespace sluice::testing
