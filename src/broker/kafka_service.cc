#include "broker/kafka_service.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/handler_table.h"
#include "cluster/meta_properties.h"
#include "protocol/api_registry.h"
#include "config/listener.h"
#include "controller/producer_id_block.h"
#include "replication/alter_partition_sender.h"
#include "storage/file.h"
#include "zk/znodes.h"

namespace sluice::broker {

namespace {

// inter.broker.listener.name, or else the name of the first listener (as
// Kafka defaults it through security.inter.broker.protocol).
std::string InterBrokerListener(const config::BrokerConfig& config) {
  if (!config.IsNull("inter.broker.listener.name")) {
    return config.GetString("inter.broker.listener.name");
  }
  auto listeners = config::ParseListenerSyntax(config.GetString("listeners"));
  return listeners.ok() && !listeners->empty() ? listeners->front().name : "PLAINTEXT";
}

// The topic's overrides in /config/topics/<topic>; none if it has no node.
Result<std::map<std::string, std::string>> ReadTopicConfigs(ClusterMembership* membership,
                                                            const std::string& topic) {
  std::shared_ptr<zk::ZkClient> zk = membership->AdminZk();
  if (!zk) return Status::Aborted("the broker is leaving the cluster");
  zk::ZkResult<zk::ZkNode> node = zk->Get(zk::TopicConfigPath(topic));
  if (node.code() == zk::ZkCode::kNoNode) return std::map<std::string, std::string>{};
  if (!node.ok()) return node.ToStatus();
  return zk::DecodeTopicConfig(node->data);
}

replication::ReplicaManagerOptions ReplicaManagerOptionsFor(const config::BrokerConfig& config,
                                                           int32_t broker_id,
                                                           ClusterMembership* membership,
                                                           TimerThread& timers) {
  replication::ReplicaManagerOptions o;
  o.broker_id = broker_id;
  o.listener_name = InterBrokerListener(config);
  o.fetcher.max_wait_ms = config.GetInt("replica.fetch.wait.max.ms");
  o.fetcher.min_bytes = config.GetInt("replica.fetch.min.bytes");
  o.fetcher.partition_max_bytes = config.GetInt("replica.fetch.max.bytes");
  o.fetcher.response_max_bytes = config.GetInt("replica.fetch.response.max.bytes");
  o.fetcher.backoff = std::chrono::milliseconds(config.GetInt("replica.fetch.backoff.ms"));
  o.fetcher.socket_timeout = std::chrono::milliseconds(config.GetInt("replica.socket.timeout.ms"));
  o.fetcher.sync_together_min_partitions = config.GetInt("sluice.log.flush.group.min.partitions");
  o.replica_lag_time_max_ms = config.GetLong("replica.lag.time.max.ms");
  // Shrinks are due after the lag time; expansions as soon as a follower
  // caught up. A quarter of the lag time, within [100 ms, 2.5 s].
  o.isr_check_interval = std::chrono::milliseconds(
      std::clamp<int64_t>(o.replica_lag_time_max_ms / 4, 100, 2500));
  o.topic_configs = [membership](const std::string& topic) {
    return ReadTopicConfigs(membership, topic);
  };
  auto sender = std::make_shared<replication::AlterPartitionSender>(
      broker_id,
      [membership]() -> std::optional<replication::LeaderEndpoint> {
        api::ClusterState state = membership->Current();
        for (const api::BrokerEndpoint& b : state.brokers) {
          if (b.id == state.controller_id) {
            return replication::LeaderEndpoint{b.id, b.host, b.port};
          }
        }
        return std::nullopt;
      },
      o.fetcher.socket_timeout);
  // Only the ISR thread calls it (ReplicaManager), one call at a time.
  o.alter_partition = [sender](const std::vector<replication::IsrChange>& changes) {
    return sender->Send(changes);
  };
  o.clock = [&timers] { return timers.NowMs(); };
  return o;
}

// Makes `key`'s rate the one in force for `quota`: this broker's dynamic
// value, else every broker's dynamic default, else the properties file's
// (Kafka's order).
void ApplyThrottleRate(const config::BrokerConfig& config, const char* key,
                       const std::map<std::string, std::string>& own,
                       const std::map<std::string, std::string>& defaults,
                       replication::ReplicationQuota& quota) {
  int64_t rate = config.GetLong(key);
  const std::map<std::string, std::string>* from = own.contains(key)        ? &own
                                                   : defaults.contains(key) ? &defaults
                                                                            : nullptr;
  if (from != nullptr) {
    auto parsed = config::ParseConfigValue(*config::BrokerConfigRegistry().Find(key), from->at(key));
    if (parsed.ok()) {
      rate = std::get<int64_t>(*parsed);
    } else {
      spdlog::warn("dynamic {}: {}; keeping the static value", key, parsed.status().message());
    }
  }
  if (quota.rate() == rate) return;
  quota.SetRate(rate);
  spdlog::info("{} is now {}", key,
               rate == replication::ReplicationQuotaOptions::kUnbounded ? std::string("unbounded")
                                                                        : std::to_string(rate));
}

std::shared_ptr<replication::ReplicationQuota> MakeReplicationQuota(
    const config::BrokerConfig& config, const char* rate_key) {
  replication::ReplicationQuotaOptions o;
  o.bytes_per_second = config.GetLong(rate_key);
  o.samples = config.GetInt("replication.quota.window.num");
  o.sample_ms = int64_t{1000} * config.GetInt("replication.quota.window.size.seconds");
  o.clock = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  return std::make_shared<replication::ReplicationQuota>(std::move(o));
}

}  // namespace

KafkaService::KafkaService()
    : metrics_registry_(std::make_unique<metrics::MetricsRegistry>()),
      metrics_(std::make_unique<metrics::BrokerMetrics>(*metrics_registry_)) {
  for (const api::HandlerEntry& entry : api::Handlers()) {
    const protocol::ApiInfo* info = protocol::FindApi(entry.api_key);
    metrics_->RegisterApi(entry.api_key,
                          info != nullptr ? info->name : fmt::format("api{}", entry.api_key));
  }
}

Result<std::unique_ptr<KafkaService>> KafkaService::Open(const config::BrokerConfig& config,
                                                        const std::string& cluster_id,
                                                        ClusterMembership* membership,
                                                        api::ClusterAdmin* cluster_admin) {
  const auto dirs = config.log_dirs();
  if (dirs.empty()) return Status::InvalidArgument("log.dirs is empty");
  const std::filesystem::path first_dir = dirs.front();
  storage::FileSystem* fs = storage::FileSystem::Default();
  SLUICE_RETURN_IF_ERROR(storage::CreateDirsDurably(fs, first_dir));

  auto meta = cluster::LoadOrCreateMetaProperties(fs, first_dir, config.broker_id(), cluster_id);
  if (!meta.ok()) return meta.status();

  std::unique_ptr<KafkaService> service(new KafkaService());
  service->timers_ = std::make_unique<TimerThread>();
  auto partitions = cluster::PartitionManager::Open(config, service->metrics_.get(), fs);
  if (!partitions.ok()) return partitions.status();
  service->partitions_ = std::move(partitions).value();
  if (membership != nullptr) {
    // Every broker answers InitProducerId: ids come from the cluster's one sequence.
    const int32_t broker_id = meta->broker_id;
    service->producer_ids_ = cluster::ProducerIdAllocator::FromSource([membership, broker_id]() {
      std::shared_ptr<zk::ZkClient> zk = membership->AdminZk();
      if (!zk) return Result<int64_t>(Status::Aborted("the broker is leaving the cluster"));
      return controller::ReserveProducerIdBlock(*zk, broker_id,
                                                cluster::ProducerIdAllocator::kBlockSize);
    });
  } else {
    auto producer_ids = cluster::ProducerIdAllocator::Open(fs, first_dir / cluster::kMetadataDir);
    if (!producer_ids.ok()) return producer_ids.status();
    service->producer_ids_ = std::move(producer_ids).value();
  }
  service->group_log_ = std::make_unique<group::GroupLog>(*service->partitions_, config);
  if (membership != nullptr) {
    // In a cluster __consumer_offsets is a cluster topic: its partition
    // count is the cluster's (the configured one until the controller has
    // told this broker of it).
    service->metadata_cache_ = std::make_unique<cluster::MetadataCache>();
    service->group_log_->SetClusterPartitionCount(
        [cache = service->metadata_cache_.get(),
         configured = config.GetInt("offsets.topic.num.partitions")]() -> int32_t {
          auto snapshot = cache->Current();
          auto it = snapshot->topics.find(group::kOffsetsTopic);
          if (it == snapshot->topics.end() || it->second.partitions.empty()) return configured;
          return static_cast<int32_t>(it->second.partitions.size());
        });
  }
  service->groups_ = std::make_unique<group::GroupCoordinator>(
      group::CoordinatorOptions::FromConfig(config), *service->group_log_, *service->timers_);
  service->group_lag_ = std::make_unique<group::GroupLagMetrics>(
      *service->metrics_registry_,
      [partitions = service->partitions_.get()](const std::string& topic,
                                                int32_t index) -> std::optional<int64_t> {
        auto partition = partitions->Get(topic, index);
        if (!partition) return std::nullopt;
        return partition->high_watermark();
      });
  service->groups_->SetObserver(service->group_lag_.get());
  if (Status s = service->groups_->Start(); !s.ok()) {
    return Status::Corruption("loading consumer groups: " + s.ToString());
  }

  service->services_.reset(new api::BrokerServices{
      config, *service->partitions_, *service->timers_, *service->producer_ids_,
      *service->groups_, meta->broker_id, meta->cluster_id, {}, membership});
  service->services_->cluster_admin = cluster_admin;
  service->services_->metrics = service->metrics_.get();
  if (membership != nullptr) {
    replication::ReplicaManagerOptions replica_options =
        ReplicaManagerOptionsFor(config, meta->broker_id, membership, *service->timers_);
    // The coordinator serves the groups of the offsets partitions led here.
    replica_options.on_leadership = [groups = service->groups_.get()](
                                        const storage::TopicPartition& tp, bool is_leader,
                                        int32_t /*leader_epoch*/) {
      if (tp.topic == group::kOffsetsTopic) groups->OnLeadership(tp.partition, is_leader);
    };
    service->leader_quota_ = MakeReplicationQuota(config, "leader.replication.throttled.rate");
    service->follower_quota_ = MakeReplicationQuota(config, "follower.replication.throttled.rate");
    replica_options.fetcher.quota = service->follower_quota_;
    replica_options.fetcher.throttled = [partitions = service->partitions_.get(),
                                         id = meta->broker_id](const storage::TopicPartition& tp) {
      auto topic = partitions->TopicConfigOf(tp.topic);
      return topic.ok() && topic->follower_throttled_replicas.Names(tp.partition, id);
    };
    service->replicas_ = std::make_unique<replication::ReplicaManager>(
        service->partitions_.get(), std::move(replica_options));
    api::BrokerServices& s = *service->services_;
    s.leader_quota = service->leader_quota_.get();
    s.metadata_cache = service->metadata_cache_.get();
    s.replicas = service->replicas_.get();
    s.controller = membership;
    s.inter_broker_listener = InterBrokerListener(config);
    service->RegisterClusterGauges(membership);
    service->membership_ = membership;
    ConfigWatcherOptions watcher;
    watcher.zk = [membership] { return membership->AdminZk(); };
    cluster::PartitionManager* hosted = service->partitions_.get();
    watcher.run = [hosted](std::function<void()> task) {
      hosted->RunMetadataTask(std::move(task));
    };
    watcher.hosted_topics = [hosted] {
      std::vector<std::string> names;
      for (const cluster::TopicInfo& t : hosted->ListTopics()) names.push_back(t.name);
      return names;
    };
    watcher.apply = [hosted](const std::string& topic,
                                 const std::map<std::string, std::string>& overrides) {
      return hosted->ApplyReplicaConfigs(topic, overrides);
    };
    watcher.broker_id = meta->broker_id;
    watcher.apply_broker = [&config, leader = service->leader_quota_,
                            follower = service->follower_quota_](
                               const std::map<std::string, std::string>& own,
                               const std::map<std::string, std::string>& defaults) {
      ApplyThrottleRate(config, "leader.replication.throttled.rate", own, defaults, *leader);
      ApplyThrottleRate(config, "follower.replication.throttled.rate", own, defaults, *follower);
    };
    watcher.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    service->config_watcher_ = std::make_unique<ConfigWatcher>(std::move(watcher));
    ConfigWatcher* config_watcher = service->config_watcher_.get();
    membership->SetOnNewSession([config_watcher] { config_watcher->OnNewSession(); });
    config_watcher->Start();
  }
  service->router_ =
      std::make_unique<api::RequestRouter>(*service->services_, service->metrics_.get());
  size_t partition_count = 0;
  for (const auto& topic : service->partitions_->ListTopics()) {
    partition_count += static_cast<size_t>(topic.partition_count);
  }
  spdlog::info("opened {} topics with {} partitions (cluster.id={})",
               service->partitions_->ListTopics().size(), partition_count, meta->cluster_id);
  return service;
}

void KafkaService::RegisterClusterGauges(ClusterMembership* membership) {
  replication::ReplicaManager* replicas = replicas_.get();
  struct Series {
    const char* name;
    const char* help;
    uint64_t replication::ReplicaStats::*field;
    bool counter;
  };
  static constexpr Series kSeries[] = {
      {"sluice_replication_leader_partitions", "Partitions this broker leads.",
       &replication::ReplicaStats::leaders, false},
      {"sluice_replication_under_replicated_partitions",
       "Partitions this broker leads whose ISR is smaller than their replicas.",
       &replication::ReplicaStats::under_replicated, false},
      {"sluice_replication_follower_partitions", "Partitions this broker follows.",
       &replication::ReplicaStats::followers, false},
      {"sluice_replication_isr_shrinks_total", "ISR shrinks the controller accepted.",
       &replication::ReplicaStats::isr_shrinks, true},
      {"sluice_replication_isr_expands_total", "ISR expansions the controller accepted.",
       &replication::ReplicaStats::isr_expands, true},
      {"sluice_replication_max_follower_lag_messages",
       "Over the partitions this broker leads, how many offsets the slowest follower trails.",
       &replication::ReplicaStats::max_follower_lag, false},
  };
  for (const Series& s : kSeries) {
    auto read = [replicas, field = s.field] { return static_cast<double>(replicas->stats().*field); };
    cluster_gauges_.push_back(
        s.counter ? metrics_registry_->AddCounter(s.name, s.help).AddCallback({}, read)
                  : metrics_registry_->AddGauge(s.name, s.help).AddCallback({}, read));
  }
  struct QuotaSide {
    const char* side;
    replication::ReplicationQuota* quota;
  };
  for (const QuotaSide q : {QuotaSide{"leader", leader_quota_.get()},
                            QuotaSide{"follower", follower_quota_.get()}}) {
    replication::ReplicationQuota* quota = q.quota;
    cluster_gauges_.push_back(
        metrics_registry_
            ->AddCounter("sluice_replication_throttled_bytes_total",
                         "Bytes of throttled replicas' catch-up, by side (leader: sent, "
                         "follower: fetched).",
                         {"side"})
            .AddCallback({q.side}, [quota] { return static_cast<double>(quota->bytes_total()); }));
    cluster_gauges_.push_back(
        metrics_registry_
            ->AddCounter("sluice_replication_throttled_holds_total",
                         "Fetches of a throttled replica the replication quota held back, by side.",
                         {"side"})
            .AddCallback({q.side},
                         [quota] { return static_cast<double>(quota->held_back_total()); }));
    cluster_gauges_.push_back(
        metrics_registry_
            ->AddGauge("sluice_replication_throttled_rate_bytes",
                       "The replication throttle's measured rate, bytes per second, by side.",
                       {"side"})
            .AddCallback({q.side}, [quota] { return quota->MeasuredRate(); }));
  }
  cluster_gauges_.push_back(
      metrics_registry_
          ->AddGauge("sluice_controller_active", "1 while this broker is the controller.")
          .AddCallback({}, [membership] {
            return membership->ActiveControllerEpoch() >= 0 ? 1.0 : 0.0;
          }));
  cluster_gauges_.push_back(
      metrics_registry_
          ->AddGauge("sluice_zookeeper_connected",
                     "1 while this broker's ZooKeeper session is connected.")
          .AddCallback({}, [membership] { return membership->ZooKeeperConnected() ? 1.0 : 0.0; }));
  cluster::MetadataCache* cache = metadata_cache_.get();
  cluster_gauges_.push_back(
      metrics_registry_
          ->AddGauge("sluice_cluster_offline_partitions",
                     "Partitions of the cluster without a leader, as the controller last told "
                     "this broker.")
          .AddCallback({}, [cache] {
            size_t offline = 0;
            // Held for the loop: a range-for over Current()->topics would
            // free the snapshot under it when an update replaces it.
            const std::shared_ptr<const cluster::MetadataSnapshot> snapshot = cache->Current();
            for (const auto& [name, topic] : snapshot->topics) {
              for (const auto& [p, state] : topic.partitions) offline += state.leader < 0 ? 1 : 0;
            }
            return static_cast<double>(offline);
          }));
  cluster_gauges_.push_back(
      metrics_registry_
          ->AddGauge("sluice_controller_epoch", "The controller epoch while this broker is the "
                                                "controller, else -1.")
          .AddCallback({}, [membership] {
            return static_cast<double>(membership->ActiveControllerEpoch());
          }));
}

KafkaService::~KafkaService() {
  if (partitions_) (void)Close();
}

void KafkaService::SetAdvertisedEndpoint(std::string host, int32_t port) {
  services_->advertised = api::AdvertisedEndpoint{std::move(host), port};
}

void KafkaService::BeginShutdown() {
  if (groups_) groups_->Shutdown();
}

void KafkaService::ResignLeadership() {
  if (replicas_) replicas_->ResignLeadership();
}

Status KafkaService::Close() {
  if (!partitions_) return Status::Ok();
  BeginShutdown();
  // Followers stop fetching before their logs close.
  cluster_gauges_.clear();
  if (config_watcher_) {
    membership_->SetOnNewSession(nullptr);
    config_watcher_->Stop();
  }
  if (replicas_) replicas_->Shutdown();
  Status s = partitions_->Close();
  config_watcher_.reset();  // Its tasks, queued before Close, have run.
  // Timers may still hold fetches that reference the partitions: stop them
  // before the partitions go away. The coordinator goes after the flusher,
  // whose last callbacks may still reach it.
  router_.reset();
  timers_.reset();
  group_lag_.reset();  // Its gauges read the partitions.
  partitions_.reset();
  groups_.reset();
  group_log_.reset();
  return s;
}

}  // namespace sluice::broker
