#include "broker/cluster_membership.h"

#include <algorithm>
#include <chrono>
#include <future>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/meta_properties.h"
#include "zk/znodes.h"

namespace sluice::broker {
namespace {

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Activation retries: 250 ms doubling to 10 s. ZooKeeper failing mid-way
// is usually a lost connection the client is re-establishing, or an expiry
// (which resigns): quick first retries, then no faster than a slow ensemble
// answers.
constexpr int64_t kFirstRetryMs = 250;
constexpr int64_t kMaxRetryMs = 10000;

ClusterMembership::ClusterMembership(const config::BrokerConfig& config)
    : broker_id_(config.broker_id()),
      rack_(config.rack()),
      session_timeout_ms_(config.GetInt("zookeeper.session.timeout.ms")),
      connect_(config.zookeeper_connect().value_or("")),
      unclean_leader_election_(config.GetBool("unclean.leader.election.enable")),
      imbalance_percentage_(config.GetInt("leader.imbalance.per.broker.percentage")),
      loop_("controller") {
  if (config.GetBool("auto.leader.rebalance.enable")) {
    controller::AutoLeaderRebalanceOptions options;
    options.interval =
        std::chrono::seconds(config.GetLong("leader.imbalance.check.interval.seconds"));
    rebalance_ = std::make_unique<controller::AutoLeaderRebalance>(
        &retry_timer_, &loop_, options, [this] { CheckLeaderImbalance(); });
  }
}

Result<std::unique_ptr<ClusterMembership>> ClusterMembership::Connect(
    const config::BrokerConfig& config) {
  std::unique_ptr<ClusterMembership> m(new ClusterMembership(config));
  controller::ZkSessionOptions options;
  options.zk.connect = m->connect_;
  options.zk.session_timeout_ms = m->session_timeout_ms_;
  options.zk.connection_timeout_ms = config.zookeeper_connection_timeout_ms();
  options.on_expired = [self = m.get()] { self->OnSessionExpired(); };
  options.on_new_session = [self = m.get()] { self->OnNewSession(); };
  auto session = controller::ZkSession::Open(std::move(options));
  if (!session.ok()) {
    return Status::IOError(fmt::format("cannot connect to ZooKeeper (zookeeper.connect={}): {}",
                                       m->connect_, session.error().message()));
  }
  m->session_ = std::move(*session);
  {
    MutexLock lock(&m->mu_);
    m->admin_session_ = m->session_.get();
  }
  spdlog::info("connected to ZooKeeper at {} (session {:#x})", m->connect_,
               m->session_->client()->session_id());
  return m;
}

ClusterMembership::~ClusterMembership() { Leave(); }

void ClusterMembership::SetControllerChannel(ControllerChannelHooks hooks) {
  hooks_ = std::move(hooks);
}

Result<std::string> ClusterMembership::AgreeClusterId(storage::FileSystem* fs,
                                                      const std::filesystem::path& dir) {
  auto meta = cluster::ReadMetaProperties(fs, dir);
  if (!meta.ok()) return meta.status();
  const std::optional<cluster::MetaProperties>& local = *meta;
  const std::string proposed = local ? local->cluster_id : cluster::NewClusterId();
  auto id = controller::BrokerRegistry::EnsureClusterId(*session_->client(), proposed);
  if (!id.ok()) {
    return Status::IOError(
        fmt::format("reading the cluster id from ZooKeeper: {}", id.error().message()));
  }
  if (local && local->cluster_id != *id) {
    return Status::InvalidArgument(fmt::format(
        "inconsistent cluster id: the cluster at zookeeper.connect={} has id {}, but {} says "
        "this broker's data belongs to cluster {}. A broker cannot move to another cluster; "
        "check zookeeper.connect and log.dirs",
        connect_, *id, (dir / cluster::kMetaPropertiesFile).string(), local->cluster_id));
  }
  return *id;
}

Status ClusterMembership::Join(const std::vector<config::Listener>& endpoints) {
  zk::BrokerRegistration self;
  self.id = broker_id_;
  for (const config::Listener& l : endpoints) {
    self.endpoints.push_back(l.ToString());
    self.security_protocols[l.name] = l.security_protocol;
  }
  self.rack = rack_;

  controller::RegistryOptions registry_options;
  registry_options.self = self;
  registry_options.session_timeout_ms = session_timeout_ms_;
  registry_options.clock = WallClockMs;
  registry_options.on_change = [this](const std::map<int32_t, zk::BrokerRegistration>& live) {
    SetLiveBrokers(live);
  };
  controller::ElectionOptions election_options;
  election_options.broker_id = broker_id_;
  election_options.clock = WallClockMs;
  election_options.on_elected = [this](controller::ControllerEpoch epoch) { OnElected(epoch); };
  election_options.on_resigned = [this] { OnResigned(); };

  controller::PartitionStateMachineOptions psm_options;
  psm_options.broker_id = broker_id_;
  psm_options.unclean_leader_election = unclean_leader_election_;
  controller::ControllerChannel* channel =
      hooks_.channel != nullptr ? hooks_.channel : &unsent_channel_;
  if (hooks_.channel == nullptr) {
    spdlog::warn("no controller channel: as controller, this broker writes its decisions to "
                 "ZooKeeper but sends them to no broker");
  }
  // Before the election starts: only loop events touch it from then on.
  psm_ = std::make_unique<controller::PartitionStateMachine>(session_.get(), &loop_, channel,
                                                             psm_options);

  controller::BrokerRegistry* registry = nullptr;
  controller::ControllerElection* election = nullptr;
  {
    MutexLock lock(&mu_);
    listener_name_ = endpoints.front().name;
    registry_ = std::make_unique<controller::BrokerRegistry>(session_.get(), &loop_,
                                                             std::move(registry_options));
    election_ = std::make_unique<controller::ControllerElection>(session_.get(), &loop_,
                                                                 std::move(election_options));
    registry = registry_.get();
    election = election_.get();
  }
  // Both live until Leave, which only this thread calls.
  zk::ZkError registered = registry->Register();
  if (!registered.ok()) {
    const std::string why = fmt::format("registering broker {}: {}", broker_id_,
                                        registered.message());
    if (registered.code() == zk::ZkCode::kNodeExists) return Status::AlreadyExists(why);
    return Status::IOError(why);
  }
  joined_ = true;
  registry->Start();
  election->Start();
  // The first read of the live brokers and the first election have run
  // once this does, so the broker's first answers already know the cluster.
  std::promise<void> ran;
  loop_.Post([&ran] { ran.set_value(); });
  ran.get_future().wait();
  return Status::Ok();
}

void ClusterMembership::Leave() {
  if (left_) return;
  left_ = true;
  {
    MutexLock lock(&mu_);
    if (election_) election_->Shutdown();
    // No admin request gets the session from now on; those holding it
    // finish first (the client must not outlive the ZkSession that made it).
    admin_session_ = nullptr;
    while (admin_leases_ > 0) admin_released_.Wait(&mu_);
  }
  loop_.Stop();  // Runs the resignation, then ends.
  // Closing the session removes /brokers/ids/<id> (and /controller if it
  // was ours) at once; watches and session callbacks now post to a stopped
  // loop, which drops them.
  // The registry and the election stay (idle) until the destructor, so
  // Current() still answers with the last state they saw.
  session_.reset();
  if (joined_) spdlog::info("left the cluster: ZooKeeper session closed, broker {} deregistered",
                            broker_id_);
}

api::ClusterState ClusterMembership::Current() const {
  MutexLock lock(&mu_);
  api::ClusterState state;
  state.brokers = brokers_;
  state.controller_id = election_ ? election_->active_controller() : -1;
  return state;
}

std::map<int32_t, zk::BrokerRegistration> ClusterMembership::LiveBrokers() const {
  MutexLock lock(&mu_);
  return live_brokers_;
}

std::shared_ptr<zk::ZkClient> ClusterMembership::AdminZk() {
  std::shared_ptr<zk::ZkClient> client;
  {
    MutexLock lock(&mu_);
    if (admin_session_ == nullptr) return nullptr;
    client = admin_session_->client();
    ++admin_leases_;
  }
  // The caller's pointer shares nothing with `client`'s count: its deleter
  // drops `client` and ends the lease, which Leave waits for.
  zk::ZkClient* raw = client.get();
  return std::shared_ptr<zk::ZkClient>(raw, [this, client = std::move(client)](zk::ZkClient*) mutable {
    client.reset();
    MutexLock lock(&mu_);
    if (--admin_leases_ == 0) admin_released_.SignalAll();
  });
}

void ClusterMembership::OnElected(controller::ControllerEpoch epoch) {
  leading_ = true;
  epoch_ = epoch;
  TryActivate(++activation_, 0);
}

void ClusterMembership::OnResigned() {
  leading_ = false;
  ++activation_;  // A retry scheduled meanwhile finds itself stale.
  psm_->Deactivate();
  if (rebalance_) rebalance_->Stop();
  SyncChannelBrokers({});
  spdlog::info("controller deactivated on broker {}", broker_id_);
}

void ClusterMembership::TryActivate(uint64_t activation, int attempt) {
  if (!leading_ || activation != activation_) return;  // Resigned or elected again since.
  SyncChannelBrokers(live_);
  Status s = psm_->Activate(epoch_, live_);
  if (s.ok()) {
    if (rebalance_) rebalance_->Start();
    return;
  }
  if (psm_->deposed()) {
    // Another controller took over: the election hears of it through its
    // watch on /controller and resigns; nothing to retry.
    spdlog::warn("controller epoch {}: deposed while activating: {}", epoch_.epoch, s.message());
    return;
  }
  const int64_t delay = std::min(kMaxRetryMs, kFirstRetryMs << std::min(attempt, 10));
  spdlog::warn("controller epoch {}: activation failed ({}); retrying in {} ms", epoch_.epoch,
               s.message(), delay);
  retry_timer_.Schedule(std::chrono::milliseconds(delay), [this, activation, attempt] {
    loop_.Post([this, activation, attempt] { TryActivate(activation, attempt + 1); });
  });
}

void ClusterMembership::SyncChannelBrokers(
    const std::map<int32_t, zk::BrokerRegistration>& target) {
  // A registration that changed is removed and added again: the channel
  // drops what it queued for the broker's previous process and connects to
  // the new endpoints.
  auto same = [](const zk::BrokerRegistration& a, const zk::BrokerRegistration& b) {
    return a.timestamp_ms == b.timestamp_ms && a.endpoints == b.endpoints && a.rack == b.rack &&
           a.security_protocols == b.security_protocols;
  };
  for (auto it = channel_brokers_.begin(); it != channel_brokers_.end();) {
    auto now = target.find(it->first);
    if (now != target.end() && same(now->second, it->second)) {
      ++it;
      continue;
    }
    if (hooks_.remove_broker) hooks_.remove_broker(it->first);
    it = channel_brokers_.erase(it);
  }
  for (const auto& [id, registration] : target) {
    if (channel_brokers_.contains(id)) continue;
    if (hooks_.add_broker) hooks_.add_broker(registration);
    channel_brokers_.emplace(id, registration);
  }
}

void ClusterMembership::OnSessionExpired() {
  spdlog::warn("ZooKeeper session expired: this broker is out of the cluster until a new "
               "session registers it again");
  MutexLock lock(&mu_);
  if (election_) election_->OnSessionExpired();
}

void ClusterMembership::OnNewSession() {
  MutexLock lock(&mu_);
  if (registry_) registry_->OnNewSession();
  if (election_) election_->OnNewSession();
  if (on_new_session_) on_new_session_();
}

void ClusterMembership::SetOnNewSession(std::function<void()> listener) {
  MutexLock lock(&mu_);
  on_new_session_ = std::move(listener);
}

void ClusterMembership::SetLiveBrokers(const std::map<int32_t, zk::BrokerRegistration>& live) {
  std::vector<int32_t> ids;
  for (const auto& entry : live) ids.push_back(entry.first);
  spdlog::info("live brokers: [{}]", fmt::join(ids, ","));
  live_ = live;
  if (leading_) {
    // The channel first: the state machine may send to a new broker at once.
    SyncChannelBrokers(live_);
    psm_->OnBrokersChanged(live_);  // Does nothing while not active.
  }
  MutexLock lock(&mu_);
  live_brokers_ = live;
  brokers_.clear();
  for (const auto& [id, registration] : live) {
    for (const std::string& endpoint : registration.endpoints) {
      auto parsed = config::ParseListenerSyntax(endpoint);
      if (!parsed.ok() || parsed->size() != 1) {
        spdlog::warn("broker {} registered an unreadable endpoint '{}'", id, endpoint);
        continue;
      }
      const config::Listener& l = parsed->front();
      if (l.name == listener_name_) {
        brokers_.push_back(api::BrokerEndpoint{id, l.host, l.port, registration.rack});
        break;
      }
    }
  }
}

void ClusterMembership::AlterPartition(
    std::vector<controller::AlterPartitionRequest> changes,
    std::function<void(std::vector<controller::AlterPartitionResult>)> done) {
  auto not_controller = [](size_t n) {
    std::vector<controller::AlterPartitionResult> out(n);
    for (auto& r : out) r.error = controller::AlterPartitionError::kNotController;
    return out;
  };
  const size_t n = changes.size();
  const bool posted = loop_.Post([this, changes = std::move(changes), done, not_controller] {
    if (!psm_ || !leading_ || !psm_->active()) {
      done(not_controller(changes.size()));
      return;
    }
    std::vector<controller::AlterPartitionResult> out;
    out.reserve(changes.size());
    for (const controller::AlterPartitionRequest& c : changes) out.push_back(psm_->AlterPartition(c));
    done(std::move(out));
  });
  if (!posted) done(not_controller(n));
}

bool ClusterMembership::ZooKeeperConnected() const {
  MutexLock lock(&mu_);
  return admin_session_ != nullptr && admin_session_->connected();
}

void ClusterMembership::ElectLeaders(
    api::ElectionType type, std::optional<std::vector<controller::TopicPartition>> partitions,
    std::function<void(api::ElectLeadersOutcome)> done) {
  const bool posted = loop_.Post([this, type, partitions = std::move(partitions), done] {
    api::ElectLeadersOutcome out;
    if (!psm_ || !leading_ || !psm_->active() || psm_->deposed()) {
      out.not_controller = true;
      done(std::move(out));
      return;
    }
    std::vector<controller::TopicPartition> tps;
    if (partitions) {
      tps = *partitions;
    } else {
      for (const auto& [name, topic] : psm_->topics()) {
        for (const auto& [p, m] : topic.partitions) {
          if (m.state) tps.push_back({name, p});
        }
      }
    }
    out.partitions = type == api::ElectionType::kUnclean ? psm_->ElectUncleanLeaders(tps)
                                                         : psm_->ElectPreferredLeaders(tps);
    done(std::move(out));
  });
  if (!posted) done(api::ElectLeadersOutcome{.not_controller = true, .partitions = {}});
}

void ClusterMembership::AlterPartitionReassignments(
    std::vector<api::ReassignmentChange> changes,
    std::function<void(api::AlterReassignmentsOutcome)> done) {
  const bool posted = loop_.Post([this, changes = std::move(changes), done] {
    api::AlterReassignmentsOutcome out;
    if (!psm_ || !leading_ || !psm_->active() || psm_->deposed()) {
      out.not_controller = true;
      done(std::move(out));
      return;
    }
    for (const api::ReassignmentChange& c : changes) {
      api::ReassignmentResult& r = out.partitions[c.tp];
      r.error = psm_->Reassign(c.tp, c.target, &r.message);
    }
    done(std::move(out));
  });
  if (!posted) done(api::AlterReassignmentsOutcome{.not_controller = true, .partitions = {}});
}

void ClusterMembership::ListPartitionReassignments(
    std::optional<std::vector<controller::TopicPartition>> partitions,
    std::function<void(api::ListReassignmentsOutcome)> done) {
  const bool posted = loop_.Post([this, partitions = std::move(partitions), done] {
    api::ListReassignmentsOutcome out;
    if (!psm_ || !leading_ || !psm_->active() || psm_->deposed()) {
      out.not_controller = true;
      done(std::move(out));
      return;
    }
    auto add = [&out](const controller::TopicPartition& tp, const controller::PartitionModel& m) {
      if (m.adding.empty() && m.removing.empty()) return;
      out.ongoing[tp] = api::OngoingReassignment{m.replicas, m.adding, m.removing};
    };
    if (partitions) {
      for (const controller::TopicPartition& tp : *partitions) {
        if (std::optional<controller::PartitionModel> m = psm_->partition(tp)) add(tp, *m);
      }
    } else {
      for (const auto& [name, topic] : psm_->topics()) {
        for (const auto& [p, m] : topic.partitions) add({name, p}, m);
      }
    }
    done(std::move(out));
  });
  if (!posted) done(api::ListReassignmentsOutcome{.not_controller = true, .ongoing = {}});
}

void ClusterMembership::CheckLeaderImbalance() {
  if (!psm_ || !leading_ || !psm_->active()) return;
  psm_->RebalancePreferredLeaders(imbalance_percentage_);
}

void ClusterMembership::ControlledShutdown(
    int32_t broker_id, std::function<void(controller::ControlledShutdownResult)> done) {
  auto not_controller = [] {
    controller::ControlledShutdownResult r;
    r.error = controller::ControlledShutdownError::kNotController;
    return r;
  };
  const bool posted = loop_.Post([this, broker_id, done, not_controller] {
    if (!psm_ || !leading_ || !psm_->active()) {
      done(not_controller());
      return;
    }
    done(psm_->ControlledShutdown(broker_id));
  });
  if (!posted) done(not_controller());
}

int32_t ClusterMembership::ActiveControllerEpoch() const {
  MutexLock lock(&mu_);
  if (!election_ || !election_->is_controller()) return -1;
  return election_->epoch().epoch;
}

}  // namespace sluice::broker
