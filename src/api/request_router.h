// RequestRouter: the network layer's RequestHandler for the Kafka API.
// Decodes the request header, applies the protocol's version rules
// (KIP-511 for ApiVersions; anything else unsupported closes the
// connection, as Kafka does), decodes the body and calls the API's handler.
//
// With metrics (optional) it counts every request by API and the bytes in,
// and wraps the Responder in a TimedResponder, which observes the latency
// and bytes out when the answer is given. A request it rejects counts as an
// error: INVALID_REQUEST (bad header, or api="unknown" for a key not served)
// or UNSUPPORTED_VERSION. It also keeps the open-connections gauge.
#pragma once

#include "api/broker_services.h"
#include "metrics/broker_metrics.h"
#include "network/request_handler.h"

namespace sluice::api {

class RequestRouter : public network::RequestHandler {
 public:
  // `metrics` may be null (no metrics); it must outlive the router.
  explicit RequestRouter(BrokerServices& services, metrics::BrokerMetrics* metrics = nullptr)
      : services_(services), metrics_(metrics) {}

  void Handle(network::ConnectionContext& connection, network::Frame request,
              network::Responder respond) override;
  void OnConnectionOpened(network::ConnectionContext& connection) override;
  void OnConnectionClosed(network::ConnectionContext& connection) override;

 private:
  BrokerServices& services_;
  metrics::BrokerMetrics* const metrics_;
};

}  // namespace sluice::api
