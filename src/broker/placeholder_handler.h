// PlaceholderHandler: stands in for the Kafka protocol layer until it lands.
// Logs the api key of each request (its first two bytes) and closes the
// connection. Thread-safe (stateless).
#pragma once

#include "network/request_handler.h"

namespace sluice::broker {

class PlaceholderHandler final : public network::RequestHandler {
 public:
  void Handle(network::ConnectionContext& connection, network::Frame request,
              network::Responder respond) override;
};

}  // namespace sluice::broker
