// The broker's partition logs: opened from log.dirs at start-up (recovering
// after an unclean stop), closed at shutdown, which writes each data
// directory's clean-shutdown marker.
#pragma once

#include <memory>

#include "base/status.h"
#include "config/broker_config.h"
#include "storage/log_config.h"
#include "storage/log_manager.h"

namespace sluice::broker {

// The storage settings of a topic with no overrides, from the broker config.
storage::LogConfig DefaultLogConfig(const config::BrokerConfig& config);

// Creates missing data directories, opens every partition and logs what it
// found (partitions, recovery notes).
Result<std::unique_ptr<storage::LogManager>> OpenLogs(const config::BrokerConfig& config);

}  // namespace sluice::broker
