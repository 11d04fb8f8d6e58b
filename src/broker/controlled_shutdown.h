// Controlled shutdown, the stopping broker's side (Kafka's
// controlled.shutdown.enable): before a broker in a cluster stops, it asks
// the controller with ControlledShutdown (API key 7) to move its
// leaderships to other in-sync replicas and to take it out of the ISRs,
// while it still serves. Clients then meet a leader change (one
// NOT_LEADER_OR_FOLLOWER and a metadata refresh) instead of a leader that
// vanished, and in-flight acks=all writes are answered, not lost with the
// connection. What the controller does is in
// controller::PartitionStateMachine::ControlledShutdown.
//
//   ControlledShutdownOptions o;
//   o.broker_id = 1;
//   o.controller = [&] { return ...the controller's inter-broker endpoint... };
//   ControlledShutdownOutcome out = RequestControlledShutdown(o);
//   ...the normal shutdown follows, whatever the outcome...
//
// The request is sent over the network even when this broker is the
// controller: one path for every broker, through the same handler and the
// controller's event loop in order with its other events; the listener is
// still serving at this point, so the detour costs a loopback round trip.
//
// Retries follow Kafka: up to `max_attempts` requests (Kafka's
// controlled.shutdown.max.retries counts every request, the first one too),
// `retry_backoff` apart, while no controller is known, the request fails
// (connection, timeout, NOT_CONTROLLER after the controller moved) or the
// answer still lists partitions led here (no other in-sync replica yet).
// Unlike Kafka it does not wait after the last attempt, nor retry when no
// other broker is live (the last broker of a cluster to stop): then no one
// can take over what it still leads.
//
// Threads: blocks the calling thread (the broker's main thread), for at
// most max_attempts * (2 * request_timeout + retry_backoff); `stop` may be
// fired from any thread to end it at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "interbroker/message_conversion.h"
#include "rpc/shutdown_signal.h"

namespace sluice::broker {

struct ControlledShutdownOptions {
  int32_t broker_id = -1;
  // Brokers here register no epoch yet: -1 (unknown), which the controller
  // does not check.
  int64_t broker_epoch = -1;
  int max_attempts = 3;                           // controlled.shutdown.max.retries; 0: none
  std::chrono::milliseconds retry_backoff{5000};  // controlled.shutdown.retry.backoff.ms
  // Each attempt's connect and request timeouts (the default of Kafka's
  // controller.socket.timeout.ms, which it uses for this request).
  std::chrono::milliseconds request_timeout{30000};
  // Where the controller is now, on the inter-broker listener; nullopt when
  // none is known. Asked before every attempt (the controller may move).
  std::function<std::optional<interbroker::Endpoint>()> controller;
  // Whether any other broker is live (asked after an answer that still
  // lists partitions); unset: assumed so.
  std::function<bool()> others_live;
  // Fired (from any thread): the request in flight, or the backoff, ends at
  // once and no further attempt is made. Null: never.
  std::shared_ptr<rpc::ShutdownSignal> stop;
  // Waits `backoff` between two attempts; returns false if cut short, which
  // ends the retries. Unset: waits for `backoff` or `stop`, whichever comes
  // first. Tests pass their own, so that no test sleeps.
  std::function<bool(std::chrono::milliseconds backoff)> wait;
};

struct ControlledShutdownOutcome {
  // The controller answered NONE with no partition left here.
  bool done = false;
  int attempts = 0;
  // What the last answer listed as still led here.
  std::vector<std::pair<std::string, int32_t>> remaining;
  // Why the last attempt did not succeed (OK when done).
  Status last_error;
};

// Asks until done, out of attempts or stopped; logs each attempt.
ControlledShutdownOutcome RequestControlledShutdown(const ControlledShutdownOptions& options);

}  // namespace sluice::broker
