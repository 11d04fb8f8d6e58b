#include "network/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace sluice::network {

spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("network")) return existing;
    auto created = std::make_shared<spdlog::logger>(
        "network", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    created->set_level(spdlog::default_logger()->level());
    spdlog::register_logger(created);
    return created;
  }();
  return *logger;
}

}  // namespace sluice::network
