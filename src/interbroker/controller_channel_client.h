// NetworkControllerChannel: the controller's requests to the brokers over
// the Kafka protocol (Kafka's ControllerChannelManager).
//
//   NetworkControllerChannel channel({.listener = "INTERNAL"});
//   for (auto& [id, b] : live) channel.AddBroker(b);   // and on every live-set change
//   PartitionStateMachine machine(session, loop, &channel, ...);
//   ...
//   channel.Shutdown();
//
// One RequestSendThread per broker: its own queue, connection and thread,
// so a slow or dead broker delays only its own requests. The Send* methods
// convert the request to its wire message (message_conversion.h) and queue
// it; they never touch the network, so they keep ControllerChannel's
// contract (the controller's loop never blocks on a broker, and nothing
// calls back into it). A request to a broker not added (or removed) is
// dropped with a warning: the controller tells a broker everything again
// when it (re)joins.
//
// The owner keeps the brokers in step with the live set: AddBroker when one
// registers (or re-registers: a new registration replaces the old, whose
// queue is dropped, as it was meant for the previous process), RemoveBroker
// when its registration goes.
//
// Threads: every public method is thread-safe. AddBroker (replacing),
// RemoveBroker and Shutdown wait for the affected sender threads to end,
// which is prompt: stopping fires their shutdown signal, so no connect or
// call in progress is waited out. The observers in the options run on the
// sender threads (see channel_options.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "controller/controller_channel.h"
#include "interbroker/channel_options.h"
#include "interbroker/request_send_thread.h"
#include "zk/znodes.h"

namespace sluice::interbroker {

class NetworkControllerChannel final : public controller::ControllerChannel {
 public:
  explicit NetworkControllerChannel(NetworkControllerChannelOptions options);
  ~NetworkControllerChannel() override;  // Shutdown().
  NetworkControllerChannel(const NetworkControllerChannel&) = delete;
  NetworkControllerChannel& operator=(const NetworkControllerChannel&) = delete;

  // Starts sending to `broker` at its endpoint on options.listener (else its
  // first). The same registration again changes nothing; a different one
  // replaces the broker's sender (dropping its queue). Errors:
  // InvalidArgument (no endpoint parses), Aborted (after Shutdown), or the
  // shutdown signal's creation failing.
  Status AddBroker(const zk::BrokerRegistration& broker) EXCLUDES(mu_);
  // Stops sending to `broker_id`: its queued requests are dropped (reported
  // Aborted) and its thread has ended on return. Unknown ids are ignored.
  void RemoveBroker(int32_t broker_id) EXCLUDES(mu_);
  // Stops every sender thread, promptly, and drops what is queued; later
  // calls do nothing. Idempotent.
  void Shutdown() EXCLUDES(mu_);

  // controller::ControllerChannel: queue and return.
  void SendLeaderAndIsr(int32_t broker_id, controller::LeaderAndIsrRequest request) override
      EXCLUDES(mu_);
  void SendUpdateMetadata(std::vector<int32_t> broker_ids,
                          controller::UpdateMetadataRequest request) override EXCLUDES(mu_);
  void SendStopReplica(int32_t broker_id, controller::StopReplicaRequest request) override
      EXCLUDES(mu_);

  // The brokers sent to, in id order.
  std::vector<int32_t> brokers() const EXCLUDES(mu_);
  // Requests dropped because their broker was not added (or after Shutdown).
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Broker {
    zk::BrokerRegistration registration;
    std::unique_ptr<RequestSendThread> sender;
  };

  // Queues `request` for `broker_id`, or drops it with a warning.
  void Enqueue(int32_t broker_id, QueuedRequest request) REQUIRES(mu_);
  // Stops `senders` all at once, then waits for each.
  static void StopAll(std::vector<std::unique_ptr<RequestSendThread>> senders);

  const NetworkControllerChannelOptions options_;  // The senders point at it.

  mutable Mutex mu_;
  std::map<int32_t, Broker> brokers_ GUARDED_BY(mu_);
  bool shut_down_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace sluice::interbroker
