// RequestSendThread: one broker's queue of controller requests and the
// thread that sends them (Kafka's RequestSendThread).
//
// The thread sends the queue's head, waits for the answer and only then
// takes the next, so a broker sees the controller's requests in the order
// they were queued. A request whose connect or call fails is sent again on a
// new connection after a backoff, until it is answered or the thread stops:
// the controller's requests are idempotent at the broker (it ignores what
// its controller and leader epochs say is old), so a request that reached
// the broker before the connection broke may safely arrive twice. An answer
// carrying an error code is not retried (as in Kafka): it is logged at warn
// and reported.
//
// Threads: Enqueue and Stop from any thread; everything else on the sender
// thread. Stop fires the shutdown signal every connect and call of this
// thread shares, so a blocked one returns at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "base/mutex.h"
#include "base/status.h"
#include "interbroker/channel_options.h"
#include "interbroker/message_conversion.h"
#include "rpc/connection.h"
#include "rpc/shutdown_signal.h"

namespace sluice::interbroker {

// A request as queued: converted once and shared by every broker it goes to
// (one UpdateMetadata for the whole cluster).
using QueuedRequest = std::variant<std::shared_ptr<const protocol::LeaderAndIsrRequest>,
                                   std::shared_ptr<const protocol::UpdateMetadataRequest>,
                                   std::shared_ptr<const protocol::StopReplicaRequest>>;

class RequestSendThread {
 public:
  // Starts the thread. `options` must outlive it.
  RequestSendThread(int32_t broker_id, Endpoint endpoint,
                    const NetworkControllerChannelOptions* options,
                    std::shared_ptr<rpc::ShutdownSignal> signal);
  ~RequestSendThread();  // Stop(), then waits for the thread.
  RequestSendThread(const RequestSendThread&) = delete;
  RequestSendThread& operator=(const RequestSendThread&) = delete;

  // Queues `request` behind the others; false (dropped) once stopping.
  bool Enqueue(QueuedRequest request) EXCLUDES(mu_);
  // Makes the thread end soon: a blocked connect or call returns, what is
  // queued is reported Aborted and dropped. Does not wait. Idempotent.
  void Stop() EXCLUDES(mu_);
  // Waits for the thread to end. REQUIRES: Stop() was called; not on the
  // sender thread (not from an observer).
  void Join();

  int32_t broker_id() const { return broker_id_; }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  void Run() EXCLUDES(mu_);
  // Connects if need be and sends `request`, once. OK with the answer's
  // error code in *delivery; an error means the connection broke (it is
  // dropped) or, InvalidArgument, the request cannot be sent at all.
  Status Attempt(const QueuedRequest& request, Delivery* delivery);
  // Waits `backoff` or until stopping; false when stopping.
  bool Backoff(std::chrono::milliseconds backoff) EXCLUDES(mu_);
  void Report(const Delivery& delivery) const;

  const int32_t broker_id_;
  const Endpoint endpoint_;
  const NetworkControllerChannelOptions* const options_;
  const std::shared_ptr<rpc::ShutdownSignal> signal_;

  // Lock order: NetworkControllerChannel::mu_ before this one.
  Mutex mu_;
  CondVar wake_;
  // The head is the request being sent; only the sender thread pops.
  std::deque<QueuedRequest> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  // Sender thread only.
  std::unique_ptr<rpc::Connection> connection_;

  std::thread thread_;  // Last: started once the members above exist.
};

// The api key of a queued request, for logs and reports.
int16_t ApiKeyOf(const QueuedRequest& request);

}  // namespace sluice::interbroker
