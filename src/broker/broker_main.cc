#include "broker/broker_main.h"

#include <csignal>
#include <cstdio>
#include <cstring>

#include <asio.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/command_line.h"
#include "broker/log_storage.h"
#include "broker/logging.h"
#include "broker/server_process.h"
#include "config/broker_config.h"

namespace sluice::broker {

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

  auto logs = OpenLogs(*config);
  if (!logs.ok()) {
    spdlog::error("cannot open the logs in log.dirs: {}", logs.status().ToString());
    return kExitRuntimeError;
  }

  // Signals are caught from here on (before any thread starts).
  asio::io_context signal_loop;
  asio::signal_set signals(signal_loop, SIGINT, SIGTERM);
  int caught = 0;
  signals.async_wait([&caught](const std::error_code& ec, int signal_number) {
    if (!ec) caught = signal_number;
  });

  ServerProcess process(*config);
  Status started = process.Start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.ToString());
    return kExitRuntimeError;
  }
  spdlog::info("sluice-broker ready: listening on {} (broker.id={}, shards={}, log.dirs={})",
               process.BoundListeners(), config->broker_id(), process.shard_count(),
               fmt::join(config->log_dirs(), ","));

  signal_loop.run();
  spdlog::info("received {}; stopping: no new connections, finishing in-flight requests",
               caught == 0 ? "shutdown request" : strsignal(caught));
  process.Stop();
  Status closed = (*logs)->Close();  // Flushes; writes the clean-shutdown markers.
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
