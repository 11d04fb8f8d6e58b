// ConfigWatcher: how a dynamic config change made through any broker
// reaches this broker, as Kafka's ZkConfigManager does in ZooKeeper mode.
//
// The broker answering AlterConfigs writes the entity's node and, in the
// same transaction, a sequential notification /config/changes/
// config_change_<seq> naming it (controller/config_writer.h). Every broker
// watches the children of /config/changes. On a change it reads the
// notifications newer than the last one it processed and re-reads what they
// name that concerns it:
//   - a topic it hosts: /config/topics/<t>, applied to its replicas
//     (`apply`: PartitionManager::ApplyReplicaConfigs), so retention,
//     segment, cleanup policy, min.insync.replicas, the throttled-replica
//     lists and the rest take effect here too;
//   - this broker (its id) or every broker (<default>): both
//     /config/brokers/<id> and /config/brokers/<default>, handed to
//     `apply_broker` (the replication throttle rates).
//
// Missed notifications. A lost connection keeps the session and its watch
// (ZooKeeper fires it on reconnection if the children changed meanwhile).
// An expired session loses the watch and maybe notifications: Start() and
// OnNewSession() re-read the config of every hosted topic and of this
// broker, then go on from
// the newest notification. A topic hosted later gets its config with the
// replica (ReplicaManager reads /config/topics/<t>), so a broker that was
// down while a config changed has it once it hosts the topic again.
//
// Purging: notifications older than `purge_after_ms` (15 minutes, as
// Kafka's) are deleted by whichever broker processes changes next (by their
// ZooKeeper creation time); a lost race between brokers is harmless.
//
// Threads: all work (ZooKeeper reads, applying) runs through `run`, one task
// at a time in order: the partition manager's metadata thread, which also
// applies LeaderAndIsr, so a config read here is never overtaken by an
// older one read while hosting the topic. Watch callbacks only post to it.
// Stop() before whatever `run` and `apply` reach goes away; after Stop()
// posted tasks do nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "zk/zk_client.h"

namespace sluice::broker {

struct ConfigWatcherOptions {
  // The current session's client, or null once the broker leaves.
  std::function<std::shared_ptr<zk::ZkClient>()> zk;
  // Runs a task on the thread that does the work (see the header).
  std::function<void(std::function<void()>)> run;
  // The cluster topics this broker hosts partitions of.
  std::function<std::vector<std::string>()> hosted_topics;
  // Makes `overrides` the topic's config here.
  std::function<Status(const std::string& topic,
                       const std::map<std::string, std::string>& overrides)>
      apply;
  // This broker's id, and what makes its dynamic configs (this broker's
  // own, then every broker's defaults) the ones in force. Unset: broker
  // configs are not watched.
  int32_t broker_id = -1;
  std::function<void(const std::map<std::string, std::string>& own,
                     const std::map<std::string, std::string>& defaults)>
      apply_broker;
  // Wall-clock ms, compared with the notifications' creation times.
  std::function<int64_t()> clock;
  int64_t purge_after_ms = 15 * 60 * 1000;
};

class ConfigWatcher {
 public:
  explicit ConfigWatcher(ConfigWatcherOptions options);
  ~ConfigWatcher();  // Stop().
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Arms the watch and re-reads every hosted topic's config and this
  // broker's (on `run`).
  void Start();
  // A new ZooKeeper session (the old one expired): as Start. Any thread.
  void OnNewSession();
  // Tasks and watch events from now on do nothing. Idempotent.
  void Stop();

 private:
  // Whether the watcher still accepts work; shared with watch callbacks,
  // which may run after it is gone.
  struct Alive {
    Mutex mu;
    bool stopped GUARDED_BY(mu) = false;
  };

  // Posts Process(all) to `run` unless stopped.
  void Post(bool all);
  // On `run`: re-arms the watch, reads the new notifications and applies
  // the configs of the topics they name (every hosted topic with `all`)
  // and this broker's, purges expired notifications.
  void Process(bool all);
  // Reads this broker's dynamic configs and hands them to apply_broker.
  void ApplyBrokerConfigs(zk::ZkClient& zk);
  bool stopped() const;

  const ConfigWatcherOptions options_;
  const std::shared_ptr<Alive> alive_ = std::make_shared<Alive>();
  // `run`'s thread only: the newest notification processed, -1 for none.
  int64_t last_seen_ = -1;
};

}  // namespace sluice::broker
