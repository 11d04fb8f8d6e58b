// Start-up check of log.dirs: creates missing directories and reports what
// they hold. The storage LogManager takes this over when it lands.
#pragma once

#include "base/status.h"
#include "config/broker_config.h"

namespace sluice::broker {

Status PrepareDataDirectories(const config::BrokerConfig& config);

}  // namespace sluice::broker
