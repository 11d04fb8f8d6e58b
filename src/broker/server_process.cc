#include "broker/server_process.h"

#include <fmt/format.h>


namespace sluice::broker {

network::ServerOptions ServerProcess::MakeServerOptions(const config::BrokerConfig& config) {
  network::ServerOptions options;
  options.listeners.clear();
  for (const config::Listener& l : config.listeners()) {
    options.listeners.push_back({l.name, l.host, l.port});
  }
  options.shards = config.network_shards();
  options.max_request_bytes = config.GetInt("socket.request.max.bytes");
  options.max_inflight_requests =
      static_cast<size_t>(config.GetInt("sluice.connection.max.inflight.requests"));
  options.max_queued_write_bytes =
      static_cast<size_t>(config.GetLong("sluice.connection.max.queued.bytes"));
  options.idle_timeout = std::chrono::milliseconds(config.GetLong("connections.max.idle.ms"));
  options.send_buffer_bytes = config.GetInt("socket.send.buffer.bytes");
  options.receive_buffer_bytes = config.GetInt("socket.receive.buffer.bytes");
  options.listen_backlog = config.GetInt("socket.listen.backlog.size");
  return options;
}

ServerProcess::ServerProcess(const config::BrokerConfig& config,
                             network::RequestHandler& handler)
    : config_(config),
      server_(std::make_unique<network::Server>(MakeServerOptions(config), handler)) {}

ServerProcess::~ServerProcess() { Stop(); }

Status ServerProcess::Bind() { return server_->Bind(); }

Status ServerProcess::Start() { return server_->Start(); }

std::string ServerProcess::BoundListeners() const {
  std::vector<std::string> parts;
  const auto ports = server_->bound_ports();
  const auto& listeners = config_.listeners();
  for (size_t i = 0; i < listeners.size() && i < ports.size(); ++i) {
    config::Listener bound = listeners[i];
    bound.port = ports[i];
    parts.push_back(bound.ToString());
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

void ServerProcess::Stop() {
  server_->Stop(std::chrono::milliseconds(config_.GetLong("sluice.shutdown.grace.ms")));
}

}  // namespace sluice::broker
