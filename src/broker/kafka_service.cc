#include "broker/kafka_service.h"

#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/handler_table.h"
#include "cluster/meta_properties.h"
#include "protocol/api_registry.h"
#include "storage/file.h"

namespace sluice::broker {

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
                                                        const api::ClusterView* cluster_view,
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
  auto producer_ids = cluster::ProducerIdAllocator::Open(fs, first_dir / cluster::kMetadataDir);
  if (!producer_ids.ok()) return producer_ids.status();
  service->producer_ids_ = std::move(producer_ids).value();
  service->group_log_ = std::make_unique<group::GroupLog>(*service->partitions_, config);
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
      *service->groups_, meta->broker_id, meta->cluster_id, {}, cluster_view});
  service->services_->cluster_admin = cluster_admin;
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

KafkaService::~KafkaService() {
  if (partitions_) (void)Close();
}

void KafkaService::SetAdvertisedEndpoint(std::string host, int32_t port) {
  services_->advertised = api::AdvertisedEndpoint{std::move(host), port};
}

void KafkaService::BeginShutdown() {
  if (groups_) groups_->Shutdown();
}

Status KafkaService::Close() {
  if (!partitions_) return Status::Ok();
  BeginShutdown();
  Status s = partitions_->Close();
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
