// Process logging: one stdout sink shared by one spdlog logger per subsystem
// ("broker", "network", "config", ...), lines like
//   [2026-01-02 03:04:05.678] [info] [network] message
// flushed per line so a supervisor (or test) sees them at once.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace sluice::broker {

// Call once, before any thread starts. `level` is a sluice.log.level value.
void SetUpLogging(std::string_view level);
// The logger of a subsystem, created on the shared sink if new.
std::shared_ptr<spdlog::logger> SubsystemLogger(const std::string& name);

}  // namespace sluice::broker
