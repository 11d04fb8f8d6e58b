#include "interbroker/request_send_thread.h"

#include <pthread.h>

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "protocol/error_code.h"

namespace sluice::interbroker {
namespace {

std::string ErrorName(int16_t code) {
  return std::string(protocol::ErrorCodeName(static_cast<protocol::ErrorCode>(code)));
}

// Collects an answer's non-zero error codes for one warn line (at most a few
// named, the rest counted: a full LeaderAndIsr may cover thousands).
class ErrorSummary {
 public:
  void Add(const std::string& what, int16_t code) {
    if (code == 0) return;
    if (first_code_ == 0) first_code_ = code;
    if (count_++ < kNamed) named_ += (named_.empty() ? "" : ", ") + what + ": " + ErrorName(code);
  }
  int16_t first_code() const { return first_code_; }
  bool empty() const { return count_ == 0; }
  std::string ToString() const {
    return count_ <= kNamed ? named_ : named_ + " and " + std::to_string(count_ - kNamed) + " more";
  }

 private:
  static constexpr size_t kNamed = 8;
  int16_t first_code_ = 0;
  size_t count_ = 0;
  std::string named_;
};

// The answers' error codes: the summary, and the code a Delivery reports.
int16_t Summarize(int32_t broker, const protocol::LeaderAndIsrRequest& request,
                  const protocol::LeaderAndIsrResponse& response) {
  std::map<controller::TopicUuid, std::string> names;
  for (const auto& t : request.topic_states) names[FromWire(t.topic_id)] = t.topic_name;
  ErrorSummary errors;
  errors.Add("request", response.error_code);
  for (const auto& t : response.topics) {
    auto name = names.find(FromWire(t.topic_id));
    const std::string topic =
        name != names.end() ? name->second : controller::TopicUuidToString(FromWire(t.topic_id));
    for (const auto& p : t.partition_errors) {
      errors.Add(topic + "-" + std::to_string(p.partition_index), p.error_code);
    }
  }
  if (!errors.empty()) {
    spdlog::warn("broker {} answered LeaderAndIsr (controller epoch {}) with errors: {}", broker,
                 request.controller_epoch, errors.ToString());
  }
  return errors.first_code();
}

int16_t Summarize(int32_t broker, const protocol::UpdateMetadataRequest& request,
                  const protocol::UpdateMetadataResponse& response) {
  if (response.error_code != 0) {
    spdlog::warn("broker {} answered UpdateMetadata (controller epoch {}) with {}", broker,
                 request.controller_epoch, ErrorName(response.error_code));
  }
  return response.error_code;
}

int16_t Summarize(int32_t broker, const protocol::StopReplicaRequest& request,
                  const protocol::StopReplicaResponse& response) {
  ErrorSummary errors;
  errors.Add("request", response.error_code);
  for (const auto& p : response.partition_errors) {
    errors.Add(p.topic_name + "-" + std::to_string(p.partition_index), p.error_code);
  }
  if (!errors.empty()) {
    spdlog::warn("broker {} answered StopReplica (controller epoch {}) with errors: {}", broker,
                 request.controller_epoch, errors.ToString());
  }
  return errors.first_code();
}

template <typename Req>
struct ResponseOf;
template <>
struct ResponseOf<protocol::LeaderAndIsrRequest> {
  using type = protocol::LeaderAndIsrResponse;
  static constexpr int16_t kVersion = kLeaderAndIsrVersion;
};
template <>
struct ResponseOf<protocol::UpdateMetadataRequest> {
  using type = protocol::UpdateMetadataResponse;
  static constexpr int16_t kVersion = kUpdateMetadataVersion;
};
template <>
struct ResponseOf<protocol::StopReplicaRequest> {
  using type = protocol::StopReplicaResponse;
  static constexpr int16_t kVersion = kStopReplicaVersion;
};

}  // namespace

int16_t ApiKeyOf(const QueuedRequest& request) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(*r)>::kApiKey; }, request);
}

RequestSendThread::RequestSendThread(int32_t broker_id, Endpoint endpoint,
                                     const NetworkControllerChannelOptions* options,
                                     std::shared_ptr<rpc::ShutdownSignal> signal)
    : broker_id_(broker_id),
      endpoint_(std::move(endpoint)),
      options_(options),
      signal_(std::move(signal)),
      thread_([this] { Run(); }) {}

RequestSendThread::~RequestSendThread() {
  Stop();
  Join();
}

bool RequestSendThread::Enqueue(QueuedRequest request) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(request));
  }
  wake_.Signal();
  return true;
}

void RequestSendThread::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  signal_->Fire();
  wake_.Signal();
}

void RequestSendThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void RequestSendThread::Run() {
  pthread_setname_np(pthread_self(),
                     ("ctl-send-" + std::to_string(broker_id_)).substr(0, 15).c_str());
  std::chrono::milliseconds backoff = options_->retry_backoff;
  int attempts = 0;
  for (;;) {
    QueuedRequest head;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) wake_.Wait(&mu_);
      if (stopping_) break;
      head = queue_.front();
    }
    const int16_t api_key = ApiKeyOf(head);
    Delivery delivery{.broker_id = broker_id_, .api_key = api_key};
    ++attempts;
    const Status s = Attempt(head, &delivery);
    if (s.ok() || s.code() == StatusCode::kInvalidArgument) {
      if (!s.ok()) {
        spdlog::error("controller request (api key {}) to broker {} cannot be sent: {}", api_key,
                      broker_id_, s.ToString());
      } else if (attempts > 1) {
        spdlog::info("broker {} at {} reached after {} attempts", broker_id_,
                     FormatEndpoint(endpoint_), attempts);
      }
      delivery.status = s;
      delivery.attempts = attempts;
      {
        MutexLock lock(&mu_);
        queue_.pop_front();
      }
      Report(delivery);
      attempts = 0;
      backoff = options_->retry_backoff;
      continue;
    }
    if (signal_->fired()) break;
    // The first failure of a request is news; its retries every backoff
    // would only repeat it.
    if (attempts == 1) {
      spdlog::warn("controller request (api key {}) to broker {} at {} failed, retrying: {}",
                   api_key, broker_id_, FormatEndpoint(endpoint_), s.ToString());
    } else {
      spdlog::debug("controller request (api key {}) to broker {} failed (attempt {}): {}", api_key,
                    broker_id_, attempts, s.ToString());
    }
    if (options_->on_send_failure) options_->on_send_failure(broker_id_, api_key, s);
    if (!Backoff(backoff)) break;
    backoff = std::min(backoff * 2, std::max(options_->max_retry_backoff, options_->retry_backoff));
  }

  connection_.reset();
  std::deque<QueuedRequest> dropped;
  {
    MutexLock lock(&mu_);
    dropped.swap(queue_);
  }
  if (!dropped.empty()) {
    spdlog::info("dropping {} controller request(s) queued for broker {}", dropped.size(),
                 broker_id_);
  }
  for (size_t i = 0; i < dropped.size(); ++i) {
    Report({.broker_id = broker_id_,
            .api_key = ApiKeyOf(dropped[i]),
            .status = Status::Aborted("broker removed or channel shut down"),
            .attempts = i == 0 ? attempts : 0});
  }
}

Status RequestSendThread::Attempt(const QueuedRequest& request, Delivery* delivery) {
  if (connection_ == nullptr) {
    rpc::ConnectionOptions options{.client_id = options_->client_id,
                                   .connect_timeout = options_->connect_timeout,
                                   .request_timeout = options_->request_timeout,
                                   .shutdown = signal_};
    auto connected = rpc::Connection::Connect(endpoint_.host, endpoint_.port, std::move(options));
    if (!connected.ok()) return connected.status();
    connection_ = std::move(connected).value();
  }
  return std::visit(
      [&](const auto& req) -> Status {
        using Req = std::decay_t<decltype(*req)>;
        using Resp = typename ResponseOf<Req>::type;
        auto reply = connection_->template Call<Req, Resp>(*req, ResponseOf<Req>::kVersion);
        if (!reply.ok()) {
          // A version this build cannot encode leaves the connection usable.
          if (connection_->broken()) connection_.reset();
          return reply.status();
        }
        delivery->error_code = Summarize(broker_id_, *req, reply->body());
        return Status::Ok();
      },
      request);
}

bool RequestSendThread::Backoff(std::chrono::milliseconds backoff) {
  const auto deadline = std::chrono::steady_clock::now() + backoff;
  MutexLock lock(&mu_);
  // Enqueue's signal wakes the wait too: go on waiting until the deadline.
  while (!stopping_ && wake_.WaitUntil(&mu_, deadline)) {
  }
  return !stopping_;
}

void RequestSendThread::Report(const Delivery& delivery) const {
  if (options_->on_delivery) options_->on_delivery(delivery);
}

}  // namespace sluice::interbroker
