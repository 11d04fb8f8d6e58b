// RequestRouter: the network layer's RequestHandler for the Kafka API.
// Decodes the request header, applies the protocol's version rules
// (KIP-511 for ApiVersions; anything else unsupported closes the
// connection, as Kafka does), decodes the body and calls the API's handler.
#pragma once

#include "api/broker_services.h"
#include "network/request_handler.h"

namespace sluice::api {

class RequestRouter : public network::RequestHandler {
 public:
  explicit RequestRouter(BrokerServices& services) : services_(services) {}

  void Handle(network::ConnectionContext& connection, network::Frame request,
              network::Responder respond) override;

 private:
  BrokerServices& services_;
};

}  // namespace sluice::api
