#include "broker/log_storage.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/topic_config.h"

namespace sluice::broker {

storage::LogConfig DefaultLogConfig(const config::BrokerConfig& config) {
  storage::LogConfig log;
  auto topic = config::ResolveTopicConfig(config, {});
  if (!topic.ok()) return log;  // Broker config was validated; cannot happen.
  log.segment_bytes = topic->segment_bytes;
  log.segment_ms = topic->segment_ms;
  log.retention_ms = topic->retention_ms;
  log.retention_bytes = topic->retention_bytes;
  log.flush_messages = topic->flush_messages;
  log.flush_ms = topic->flush_ms;
  log.index_interval_bytes = topic->index_interval_bytes;
  log.segment_index_bytes = topic->segment_index_bytes;
  log.max_message_bytes = topic->max_message_bytes;
  return log;
}

Result<std::unique_ptr<storage::LogManager>> OpenLogs(const config::BrokerConfig& config) {
  std::vector<std::filesystem::path> dirs;
  for (const std::string& dir : config.log_dirs()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return Status::IOError(fmt::format("log.dirs: cannot create '{}': {}", dir, ec.message()));
    }
    dirs.emplace_back(dir);
  }
  storage::LogManagerOptions options;
  options.default_config = DefaultLogConfig(config);
  auto logs = storage::LogManager::Open(dirs, std::move(options));
  if (!logs.ok()) return logs.status();
  for (const std::string& note : (*logs)->notes()) spdlog::info("storage: {}", note);
  spdlog::info("opened {} partition logs in {}", (*logs)->Logs().size(),
               fmt::join(config.log_dirs(), ","));
  return logs;
}

}  // namespace sluice::broker
