// KafkaService: everything behind the Kafka listeners -- the partitions,
// the flusher, timers, producer ids and the request router -- built from the
// configuration at start-up and closed at shutdown.
//
// Start-up order: data directories (meta.properties, partition logs with
// recovery), then the router; the network server is started by the caller
// once Open has succeeded, and stopped before Close.
#pragma once

#include <memory>
#include <string>

#include "api/broker_services.h"
#include "api/request_router.h"
#include "base/status.h"
#include "base/timer_thread.h"
#include "cluster/partition_manager.h"
#include "cluster/producer_id_allocator.h"
#include "config/broker_config.h"

namespace sluice::broker {

class KafkaService {
 public:
  static Result<std::unique_ptr<KafkaService>> Open(const config::BrokerConfig& config);
  ~KafkaService();

  network::RequestHandler& handler() { return *router_; }
  // What Metadata advertises. Set once the listener's port is known (it may
  // be 0 = any in the config), before the server accepts connections.
  void SetAdvertisedEndpoint(std::string host, int32_t port);
  const std::string& cluster_id() const { return services_->cluster_id; }

  // Flushes and closes every partition log (clean-shutdown markers).
  Status Close();

 private:
  KafkaService() = default;

  std::unique_ptr<TimerThread> timers_;
  std::unique_ptr<cluster::PartitionManager> partitions_;
  std::unique_ptr<cluster::ProducerIdAllocator> producer_ids_;
  std::unique_ptr<api::BrokerServices> services_;
  std::unique_ptr<api::RequestRouter> router_;
};

}  // namespace sluice::broker
