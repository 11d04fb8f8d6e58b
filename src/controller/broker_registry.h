// BrokerRegistry: this broker's registration in ZooKeeper, and the live set.
//
// Each broker holds an ephemeral /brokers/ids/<id> with its endpoints and
// rack (Kafka's version-5 JSON) for as long as its session lives; the set of
// those nodes is the set of live brokers, which every broker watches (the
// controller acts on it; Metadata answers from it).
//
// Register() is called once at start-up, before the broker serves. A node
// left by this broker's previous process (killed within its session
// timeout) is waited out: it goes when that session expires. A node that
// outlives that wait belongs to another live broker with the same id, and
// start-up fails, naming it.
//
// The cluster id lives in /cluster/id; the first broker of a cluster writes
// it. EnsureClusterId returns the cluster's id so the broker can compare it
// with its meta.properties (a broker of another cluster must not join).
//
// Threads: watch events and re-registration after a new session run on the
// owner's EventLoop; live_brokers() is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "controller/event_loop.h"
#include "controller/zk_session.h"
#include "zk/znodes.h"

namespace sluice::controller {

struct RegistryOptions {
  zk::BrokerRegistration self;  // id, endpoints, security protocols, rack
  // How long Register waits for a previous process's node to expire.
  int32_t session_timeout_ms = 18000;
  std::function<int64_t()> clock;  // wall-clock ms for the registration timestamp
  // On the loop, whenever the live set changes (and once after Start).
  std::function<void(const std::map<int32_t, zk::BrokerRegistration>&)> on_change;
};

class BrokerRegistry {
 public:
  BrokerRegistry(ZkSession* session, EventLoop* loop, RegistryOptions options);

  // The cluster's id: the one in /cluster/id, or `proposed` if there was none
  // (then written there first).
  static zk::ZkResult<std::string> EnsureClusterId(zk::ZkClient& zk, const std::string& proposed);

  // Creates this broker's node (see the header comment). Blocks.
  zk::ZkError Register();
  // Starts watching /brokers/ids (on the loop).
  void Start();
  // ZkSession's new-session callback: registers again and re-reads the set.
  void OnNewSession();

  std::map<int32_t, zk::BrokerRegistration> live_brokers() const EXCLUDES(mu_);

 private:
  // On the loop thread: reads the live set, re-arming the children watch.
  void Refresh();

  ZkSession* const session_;
  EventLoop* const loop_;
  const RegistryOptions options_;

  mutable Mutex mu_;
  std::map<int32_t, zk::BrokerRegistration> live_ GUARDED_BY(mu_);
};

}  // namespace sluice::controller
