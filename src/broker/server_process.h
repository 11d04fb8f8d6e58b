// ServerProcess: the running broker's parts -- request handler and network
// server -- built from the configuration, started and stopped together.
// Thread-safety: Start/Stop from the main thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/broker_config.h"
#include "network/request_handler.h"
#include "network/server.h"

namespace sluice::broker {

class ServerProcess {
 public:
  // `handler` answers every request and must outlive the process object.
  ServerProcess(const config::BrokerConfig& config, network::RequestHandler& handler);
  ~ServerProcess();

  // Binds every listener; nothing is accepted until Start. bound_ports()
  // is known from here on.
  Status Bind();
  // Starts the shards: requests are served from here on.
  Status Start();
  // "PLAINTEXT://127.0.0.1:9092,..." with the ports actually bound.
  std::string BoundListeners() const;
  // The port each listener is bound to, in the order of `listeners` (empty
  // before Bind).
  std::vector<uint16_t> bound_ports() const { return server_->bound_ports(); }
  int shard_count() const { return server_->shard_count(); }
  // Graceful: stop accepting, finish in-flight requests (bounded by
  // sluice.shutdown.grace.ms), close.
  void Stop();

  static network::ServerOptions MakeServerOptions(const config::BrokerConfig& config);

 private:
  const config::BrokerConfig& config_;
  std::unique_ptr<network::Server> server_;
};

}  // namespace sluice::broker
