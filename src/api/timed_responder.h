// TimedResponder: a network::Responder that also feeds the broker's request
// metrics. The router wraps every request's Responder in one; when the answer
// is given (Send, NoResponse or CloseConnection, on whatever thread), it
// observes the request's latency since Handle() and counts the response
// bytes. Handlers report the error codes they put into a response through
// RecordError (RequestContext::RecordError).
//
// Same contract as network::Responder: move-only, single-shot, thread-safe to
// answer from any thread; destroyed unanswered it closes the connection (and
// counts that as an UNKNOWN_SERVER_ERROR, a handler bug). With no metrics
// (null, e.g. in unit tests) it is a plain Responder.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "base/output_chain.h"
#include "metrics/broker_metrics.h"
#include "network/request_handler.h"
#include "protocol/error_code.h"

namespace sluice::api {

class TimedResponder {
 public:
  using Clock = std::chrono::steady_clock;

  TimedResponder() = default;
  // `api` is metrics->ForApi(key) of the request; both null or both set.
  TimedResponder(network::Responder inner, metrics::BrokerMetrics* metrics,
                 metrics::BrokerMetrics::Api* api, Clock::time_point start)
      : inner_(std::move(inner)), metrics_(metrics), api_(api), start_(start) {}
  TimedResponder(TimedResponder&& other) noexcept
      : inner_(std::move(other.inner_)),
        metrics_(other.metrics_),
        api_(other.api_),
        start_(other.start_) {}
  TimedResponder& operator=(TimedResponder&& other) noexcept {
    if (this != &other) {
      Abandon();
      inner_ = std::move(other.inner_);
      metrics_ = other.metrics_;
      api_ = other.api_;
      start_ = other.start_;
    }
    return *this;
  }
  TimedResponder(const TimedResponder&) = delete;
  TimedResponder& operator=(const TimedResponder&) = delete;
  ~TimedResponder() { Abandon(); }

  void operator()(OutputChain response) { Send(std::move(response)); }
  void Send(OutputChain response) {
    if (!inner_.pending()) return;
    if (metrics_ != nullptr) metrics_->bytes_out().Increment(response.size() + 4);
    Completed();
    inner_.Send(std::move(response));
  }
  // network::Responder::SendInTurn; the latency is observed and the bytes
  // counted when `build` runs.
  void SendInTurn(std::function<OutputChain()> build) {
    if (!inner_.pending()) return;
    inner_.SendInTurn([metrics = metrics_, api = api_, start = start_, build = std::move(build)] {
      OutputChain response = build();
      if (metrics != nullptr) metrics->bytes_out().Increment(response.size() + 4);
      if (api != nullptr) api->latency.ObserveDuration(Clock::now() - start);
      return response;
    });
  }
  void NoResponse() {
    if (!inner_.pending()) return;
    Completed();
    inner_.NoResponse();
  }
  void CloseConnection(std::string reason) {
    if (!inner_.pending()) return;
    Completed();
    inner_.CloseConnection(std::move(reason));
  }

  bool pending() const { return inner_.pending(); }

  // Counts one error code (a top-level or per-partition one) of this
  // request's response. 0 (NONE) is ignored.
  void RecordError(int16_t error_code) const { RecordApiError(api_, error_code); }

  // The same, for a response built after this responder has answered
  // (SendInTurn): copyable, valid as long as the broker's metrics.
  class ErrorRecorder {
   public:
    explicit ErrorRecorder(metrics::BrokerMetrics::Api* api) : api_(api) {}
    void RecordError(int16_t error_code) const { RecordApiError(api_, error_code); }

   private:
    metrics::BrokerMetrics::Api* api_;
  };
  ErrorRecorder error_recorder() const { return ErrorRecorder(api_); }

 private:
  static void RecordApiError(metrics::BrokerMetrics::Api* api, int16_t error_code) {
    if (api == nullptr || error_code == 0) return;
    api->RecordError(error_code,
                     protocol::ErrorCodeName(static_cast<protocol::ErrorCode>(error_code)));
  }
  void Completed() {
    if (api_ != nullptr) api_->latency.ObserveDuration(Clock::now() - start_);
  }
  void Abandon() {
    if (!inner_.pending()) return;
    RecordError(protocol::ToWire(protocol::ErrorCode::UNKNOWN_SERVER_ERROR));
    CloseConnection("request handler dropped the responder");
  }

  network::Responder inner_;
  metrics::BrokerMetrics* metrics_ = nullptr;
  metrics::BrokerMetrics::Api* api_ = nullptr;
  Clock::time_point start_{};
};

}  // namespace sluice::api
