// The "network" spdlog logger. Created on first use with spdlog's default
// sink setup unless the broker registered one under that name first.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace sluice::network {

spdlog::logger& Log();

}  // namespace sluice::network
