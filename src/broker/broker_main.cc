#include "broker/broker_main.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/advertised_listeners.h"
#include "broker/cluster_membership.h"
#include "broker/command_line.h"
#include "broker/controlled_shutdown.h"
#include "broker/fd_limit.h"
#include "broker/kafka_service.h"
#include "broker/logging.h"
#include "broker/server_process.h"
#include "broker/stop_signals.h"
#include "broker/zk_cluster_admin.h"
#include "interbroker/controller_channel_client.h"
#include "interbroker/message_conversion.h"
#include "config/broker_config.h"
#include "config/listener.h"
#include "http/http_server.h"
#include "rpc/shutdown_signal.h"
#include "storage/dir_lock.h"

namespace sluice::broker {
namespace {

// Starts the HTTP metrics endpoint on sluice.metrics.listener (host:port;
// empty disables it) and logs its address. A failure is logged and the
// broker runs on without it: metrics must not take the Kafka API down.
std::unique_ptr<http::HttpServer> StartMetricsServer(const config::BrokerConfig& config,
                                                     metrics::MetricsRegistry& registry) {
  const std::string& listener = config.GetString("sluice.metrics.listener");
  if (listener.empty()) {
    spdlog::info("metrics endpoint disabled (sluice.metrics.listener is empty)");
    return nullptr;
  }
  auto parsed = config::ParseListenerSyntax("METRICS://" + listener);
  if (!parsed.ok() || parsed->size() != 1) {  // The config validator makes this unreachable.
    spdlog::error("metrics endpoint disabled: bad sluice.metrics.listener '{}'", listener);
    return nullptr;
  }
  std::string host = parsed->front().host;
  if (host.empty()) host = "0.0.0.0";
  auto server = std::make_unique<http::HttpServer>(host, parsed->front().port, registry);
  Result<uint16_t> port = server->Start();
  if (!port.ok()) {
    spdlog::error("metrics endpoint disabled: {}", port.status().ToString());
    return nullptr;
  }
  const bool v6 = host.find(':') != std::string::npos;
  spdlog::info("metrics on http://{}{}{}:{}/metrics", v6 ? "[" : "", host, v6 ? "]" : "", *port);
  return server;
}

// Controlled shutdown (broker/controlled_shutdown.h), run while the broker
// still serves, once the first SIGINT or SIGTERM was caught. A second one
// meanwhile abandons it: it fires the request's stop signal.
void ShutDownControlled(const config::BrokerConfig& config, ClusterMembership& membership,
                        StopSignals& signals) {
  ControlledShutdownOptions options;
  options.broker_id = config.broker_id();
  options.max_attempts = config.GetInt("controlled.shutdown.max.retries");
  options.retry_backoff =
      std::chrono::milliseconds(config.GetLong("controlled.shutdown.retry.backoff.ms"));
  // The controller's endpoint on the listener brokers reach each other on
  // (the first one without inter.broker.listener.name), as its channel does.
  const std::string listener = config.IsNull("inter.broker.listener.name")
                                   ? ""
                                   : config.GetString("inter.broker.listener.name");
  options.controller = [&membership, listener]() -> std::optional<interbroker::Endpoint> {
    const int32_t id = membership.Current().controller_id;
    const std::map<int32_t, zk::BrokerRegistration> live = membership.LiveBrokers();
    auto it = live.find(id);
    if (it == live.end()) return std::nullopt;
    return interbroker::FindEndpoint(it->second, listener);
  };
  options.others_live = [&membership, self = options.broker_id] {
    for (const auto& [id, registration] : membership.LiveBrokers()) {
      if (id != self) return true;
    }
    return false;
  };
  auto stop = rpc::ShutdownSignal::Create();
  if (!stop.ok()) {
    spdlog::warn("controlled shutdown: {}; a second signal will not cut it short",
                 stop.status().ToString());
    (void)RequestControlledShutdown(options);
    return;
  }
  options.stop = *stop;
  signals.OnSignal([stop = *stop](int) { stop->Fire(); });
  (void)RequestControlledShutdown(options);
  signals.OnSignal(nullptr);
}

}  // namespace

int BrokerMain(int argc, const char* const* argv) {
  auto command_line = ParseCommandLine(argc, argv);
  if (!command_line.ok()) {
    fmt::print(stderr, "sluice-broker: {}\n\n{}", command_line.status().message(), UsageText());
    return kExitConfigError;
  }
  if (command_line->help) {
    fmt::print("{}", UsageText());
    return kExitOk;
  }
  if (command_line->version) {
    fmt::print("sluice-broker {}\n", SLUICE_VERSION);
    return kExitOk;
  }

  // Before the first thread starts, which would inherit SIGINT and SIGTERM
  // unblocked.
  auto signals = StopSignals::Start();
  if (!signals.ok()) {
    fmt::print(stderr, "sluice-broker: {}\n", signals.status().ToString());
    return kExitRuntimeError;
  }

  auto config = config::BrokerConfig::Load(command_line->properties_file,
                                           command_line->overrides);
  if (!config.ok()) {
    fmt::print(stderr, "sluice-broker: {}\n", config.status().message());
    return kExitConfigError;
  }
  SetUpLogging(config->GetString("sluice.log.level"));
  for (const std::string& key : config->IgnoredKeysSet()) {
    SubsystemLogger("config")->warn("'{}' is accepted for compatibility and has no effect", key);
  }

  RaiseOpenFileLimit();  // Before the file cache sizes itself from it.

  // Before anything reads or writes the data: refuse log dirs another
  // process uses. Held until exit.
  std::vector<std::unique_ptr<storage::DirLock>> dir_locks;
  for (const std::string& dir : config->log_dirs()) {
    auto lock = storage::DirLock::Acquire(dir);
    if (!lock.ok()) {
      spdlog::error("cannot lock log dir {}: {}", dir, lock.status().message());
      return kExitRuntimeError;
    }
    dir_locks.push_back(std::move(lock).value());
  }

  // With zookeeper.connect the broker joins a cluster; without it, it is a
  // single node and nothing of this exists.
  // The controller's requests to the brokers; declared first so that it
  // outlives the membership, whose loop calls it until Leave.
  std::unique_ptr<interbroker::NetworkControllerChannel> channel;
  std::unique_ptr<ClusterMembership> membership;
  std::unique_ptr<ZkClusterAdmin> cluster_admin;  // Outlives the service, which uses it.
  std::string cluster_id;
  if (config->zookeeper_connect()) {
    auto connected = ClusterMembership::Connect(*config);
    if (!connected.ok()) {
      spdlog::error("{}", connected.status().message());
      return kExitRuntimeError;
    }
    membership = std::move(connected).value();
    auto agreed = membership->AgreeClusterId(storage::FileSystem::Default(),
                                             config->log_dirs().front());
    if (!agreed.ok()) {
      spdlog::error("cannot join the cluster: {}", agreed.status().message());
      return kExitRuntimeError;
    }
    cluster_id = std::move(agreed).value();
    cluster_admin = std::make_unique<ZkClusterAdmin>(membership.get(), *config);
    interbroker::NetworkControllerChannelOptions channel_options;
    channel_options.listener = config->IsNull("inter.broker.listener.name")
                                   ? ""
                                   : config->GetString("inter.broker.listener.name");
    channel = std::make_unique<interbroker::NetworkControllerChannel>(channel_options);
    interbroker::NetworkControllerChannel* ch = channel.get();
    membership->SetControllerChannel(ControllerChannelHooks{
        ch, [ch](const zk::BrokerRegistration& b) { (void)ch->AddBroker(b); },
        [ch](int32_t id) { ch->RemoveBroker(id); }});
  }

  auto service = KafkaService::Open(*config, cluster_id, membership.get(), cluster_admin.get());
  if (!service.ok()) {
    spdlog::error("cannot open the data in log.dirs: {}", service.status().ToString());
    return kExitRuntimeError;
  }

  // A signal from here on stops the broker cleanly once it serves.
  (*signals)->Serving();

  ServerProcess process(*config, (*service)->handler());
  Status bound = process.Bind();
  if (!bound.ok()) {
    spdlog::error("cannot start: {}", bound.ToString());
    return kExitRuntimeError;
  }
  // What Metadata advertises is set before the first request can read it.
  const std::vector<config::Listener> advertised =
      AdvertisedListeners(*config, process.bound_ports());
  (*service)->SetAdvertisedEndpoint(advertised.front().host, advertised.front().port);
  Status started = process.Start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.ToString());
    return kExitRuntimeError;
  }
  if (membership) {
    Status joined = membership->Join(advertised);
    if (!joined.ok()) {
      spdlog::error("cannot join the cluster: {}", joined.message());
      return kExitRuntimeError;
    }
  }
  std::unique_ptr<http::HttpServer> metrics_server =
      StartMetricsServer(*config, (*service)->metrics_registry());
  spdlog::info("sluice-broker ready: listening on {} (broker.id={}, shards={}, log.dirs={})",
               process.BoundListeners(), config->broker_id(), process.shard_count(),
               fmt::join(config->log_dirs(), ","));

  const int caught = (*signals)->Await();
  spdlog::info("received {}; stopping: no new connections, finishing in-flight requests",
               strsignal(caught));
  if (membership && config->GetBool("controlled.shutdown.enable")) {
    ShutDownControlled(*config, *membership, **signals);
  }
  (*service)->BeginShutdown();
  // Out of the cluster first: a broker that is stopping is no longer
  // advertised, nor controller, while it finishes its requests.
  if (membership) {
    membership->Leave();
    (*service)->ResignLeadership();
  }
  process.Stop();
  if (metrics_server) metrics_server->Stop();
  Status closed = (*service)->Close();  // Flushes; writes the clean-shutdown markers.
  if (!closed.ok()) {
    spdlog::error("closing the logs failed: {}", closed.ToString());
    spdlog::shutdown();
    return kExitRuntimeError;
  }
  spdlog::info("sluice-broker stopped");
  spdlog::shutdown();
  return kExitOk;
}

}  // namespace sluice::broker
