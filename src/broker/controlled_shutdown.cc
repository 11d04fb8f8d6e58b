#include "broker/controlled_shutdown.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/error_code.h"
#include "protocol/generated/controlled_shutdown.h"
#include "rpc/connection.h"

namespace sluice::broker {
namespace {

// The newest version (flexible, with the broker epoch); every version of
// the request means the same.
constexpr int16_t kControlledShutdownVersion = 3;

// Waits `backoff`, or less if `stop` fires; false if it did.
bool WaitOrStop(const std::shared_ptr<rpc::ShutdownSignal>& stop,
                std::chrono::milliseconds backoff) {
  if (!stop) {
    std::this_thread::sleep_for(backoff);
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + backoff;
  while (!stop->fired()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd p{.fd = stop->fd(), .events = POLLIN, .revents = 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
    if (n < 0 && errno != EINTR) return !stop->fired();
  }
  return false;
}

std::string Describe(const std::vector<std::pair<std::string, int32_t>>& partitions) {
  std::string out;
  const size_t shown = std::min<size_t>(partitions.size(), 10);
  for (size_t i = 0; i < shown; ++i) {
    out += fmt::format("{}{}-{}", i == 0 ? "" : ", ", partitions[i].first, partitions[i].second);
  }
  if (shown < partitions.size()) out += fmt::format(" and {} more", partitions.size() - shown);
  return out;
}

// One connection to the controller, kept across attempts while the
// controller stays where it is.
class ControllerConnection {
 public:
  explicit ControllerConnection(const ControlledShutdownOptions& options) : options_(options) {}

  Result<protocol::ControlledShutdownResponse> Send(const interbroker::Endpoint& controller) {
    if (!conn_ || conn_->broken() || connected_to_ != controller) {
      conn_.reset();
      rpc::ConnectionOptions o;
      o.client_id = fmt::format("sluice-broker-{}-controlled-shutdown", options_.broker_id);
      o.connect_timeout = options_.request_timeout;
      o.request_timeout = options_.request_timeout;
      o.shutdown = options_.stop;
      auto conn = rpc::Connection::Connect(controller.host, controller.port, std::move(o));
      if (!conn.ok()) return conn.status();
      conn_ = std::move(conn).value();
      connected_to_ = controller;
    }
    protocol::ControlledShutdownRequest request;
    request.broker_id = options_.broker_id;
    request.broker_epoch = options_.broker_epoch;
    auto reply =
        conn_->Call<protocol::ControlledShutdownRequest, protocol::ControlledShutdownResponse>(
            request, kControlledShutdownVersion);
    if (!reply.ok()) return reply.status();
    return std::move(reply->body());
  }

 private:
  const ControlledShutdownOptions& options_;
  std::optional<interbroker::Endpoint> connected_to_;
  std::unique_ptr<rpc::Connection> conn_;
};

}  // namespace

ControlledShutdownOutcome RequestControlledShutdown(const ControlledShutdownOptions& options) {
  ControlledShutdownOutcome out;
  ControllerConnection connection(options);
  auto stopped = [&] { return options.stop && options.stop->fired(); };
  for (int attempt = 1; attempt <= options.max_attempts && !stopped(); ++attempt) {
    if (attempt > 1) {
      const bool waited = options.wait ? options.wait(options.retry_backoff)
                                       : WaitOrStop(options.stop, options.retry_backoff);
      if (!waited || stopped()) break;
    }
    out.attempts = attempt;
    const std::string which = fmt::format("attempt {} of {}", attempt, options.max_attempts);
    std::optional<interbroker::Endpoint> controller =
        options.controller ? options.controller() : std::nullopt;
    if (!controller) {
      out.last_error = Status::NotFound("no controller is known");
      spdlog::warn("controlled shutdown, {}: no controller is known", which);
      continue;
    }
    auto answer = connection.Send(*controller);
    if (!answer.ok()) {
      out.last_error = answer.status();
      spdlog::warn("controlled shutdown, {}: the controller at {} did not answer: {}", which,
                   interbroker::FormatEndpoint(*controller), answer.status().ToString());
      continue;
    }
    out.remaining.clear();
    for (const auto& p : answer->remaining_partitions) {
      out.remaining.emplace_back(p.topic_name, p.partition_index);
    }
    const auto error = static_cast<protocol::ErrorCode>(answer->error_code);
    if (error != protocol::ErrorCode::NONE) {
      out.last_error = Status::Aborted(
          fmt::format("the controller answered {}", protocol::ErrorCodeName(error)));
      spdlog::warn("controlled shutdown, {}: {} answered {}", which,
                   interbroker::FormatEndpoint(*controller), protocol::ErrorCodeName(error));
      continue;
    }
    if (out.remaining.empty()) {
      out.done = true;
      out.last_error = Status::Ok();
      spdlog::info("controlled shutdown, {}: the controller moved every leadership away", which);
      return out;
    }
    out.last_error =
        Status::Aborted(fmt::format("{} partition(s) still led here", out.remaining.size()));
    spdlog::warn(
        "controlled shutdown, {}: {} partition(s) still led here (no other in-sync "
        "replica can take them): {}",
        which, out.remaining.size(), Describe(out.remaining));
    if (options.others_live && !options.others_live()) {
      spdlog::info("controlled shutdown: no other broker is live to take them; not asking again");
      break;
    }
  }
  if (stopped()) {
    spdlog::warn("controlled shutdown abandoned (asked to stop at once)");
  } else if (options.max_attempts > 0) {
    spdlog::warn("controlled shutdown did not complete after {} attempt(s) ({}); stopping anyway",
                 out.attempts, out.last_error.ToString());
  }
  return out;
}

}  // namespace sluice::broker
