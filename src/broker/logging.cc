#include "broker/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace sluice::broker {

namespace {
std::shared_ptr<spdlog::sinks::sink>& SharedSink() {
  static std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<spdlog::sinks::stdout_sink_mt>();
  return sink;
}
}  // namespace

std::shared_ptr<spdlog::logger> SubsystemLogger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, SharedSink());
  logger->set_level(spdlog::default_logger()->level());
  logger->flush_on(spdlog::level::trace);
  spdlog::register_logger(logger);
  return logger;
}

void SetUpLogging(std::string_view level) {
  SharedSink()->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [%n] %v");
  auto main_logger = std::make_shared<spdlog::logger>("broker", SharedSink());
  main_logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(main_logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  for (const char* subsystem : {"network", "config", "storage", "protocol", "group"}) {
    SubsystemLogger(subsystem);
  }
}

}  // namespace sluice::broker
