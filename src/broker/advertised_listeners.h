// What this broker tells clients (Metadata) and the other brokers of its
// cluster (its registration in ZooKeeper) to connect to.
#pragma once

#include <cstdint>
#include <vector>

#include "config/broker_config.h"
#include "config/listener.h"

namespace sluice::broker {

// Each advertised listener (advertised.listeners if not empty, else listeners) made
// concrete, by Kafka's rules: a host bound to every interface (empty,
// 0.0.0.0, ::) advertises this machine's host name, and port 0 the port its
// listener is bound to. `bound_ports` is in the order of config.listeners().
std::vector<config::Listener> AdvertisedListeners(const config::BrokerConfig& config,
                                                  const std::vector<uint16_t>& bound_ports);

}  // namespace sluice::broker
