#include "broker/advertised_listeners.h"

#include <unistd.h>

#include <string>

namespace sluice::broker {
namespace {

std::string ConcreteHost(const std::string& host) {
  if (!host.empty() && host != "0.0.0.0" && host != "::") return host;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != 0) return name;
  return "127.0.0.1";
}

}  // namespace

std::vector<config::Listener> AdvertisedListeners(const config::BrokerConfig& config,
                                                  const std::vector<uint16_t>& bound_ports) {
  const std::vector<config::Listener>& listeners = config.listeners();
  // An empty advertised.listeners advertises the listeners themselves.
  const std::vector<config::Listener>& source =
      config.advertised_listeners().empty() ? listeners : config.advertised_listeners();
  std::vector<config::Listener> out;
  for (config::Listener advertised : source) {
    advertised.host = ConcreteHost(advertised.host);
    if (advertised.port == 0) {
      // The config refuses an advertised name that no listener has.
      for (size_t i = 0; i < listeners.size() && i < bound_ports.size(); ++i) {
        if (listeners[i].name == advertised.name) advertised.port = bound_ports[i];
      }
    }
    out.push_back(std::move(advertised));
  }
  return out;
}

}  // namespace sluice::broker
