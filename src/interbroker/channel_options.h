// How NetworkControllerChannel connects, retries and reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"

namespace sluice::interbroker {

// What became of one request to one broker (reported once per request).
struct Delivery {
  int32_t broker_id = -1;
  int16_t api_key = -1;
  // OK: the broker answered, error_code says with what. Aborted: dropped
  // unanswered because the broker was removed or the channel shut down.
  // InvalidArgument: this build cannot encode the request (a bug), dropped.
  Status status;
  // The answer's top-level error code, else its first non-zero per-partition
  // one; 0 when everything succeeded (or there was no answer).
  int16_t error_code = 0;
  // How many times the request was sent or tried (1 unless retried).
  int attempts = 0;
};

struct NetworkControllerChannelOptions {
  std::string client_id = "sluice-controller";
  // The listener the controller reaches brokers on (Kafka's
  // control.plane.listener.name, else the inter-broker listener), also the
  // endpoint LeaderAndIsr gives followers for their leaders. A broker
  // without it is reached on its first endpoint; "" means the first.
  std::string listener;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};  // Kafka's controller.socket.timeout.ms
  // After a failed attempt, wait this long before reconnecting, doubled on
  // each further failure of the same request up to max_retry_backoff.
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds max_retry_backoff{1000};
  // Both run on the broker's sender thread: they must be quick, and must not
  // call the channel's AddBroker, RemoveBroker or Shutdown (which wait for
  // that thread). May be empty.
  std::function<void(const Delivery&)> on_delivery;
  // A connect or call that failed (and will be retried after the backoff).
  std::function<void(int32_t broker_id, int16_t api_key, const Status&)> on_send_failure;
};

}  // namespace sluice::interbroker
