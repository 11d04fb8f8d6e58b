// RespondWhenSettled: how the admin requests that the controller carries out
// (CreateTopics, CreatePartitions, DeleteTopics) answer in a cluster. The
// handler only writes ZooKeeper; the client is told success once this
// broker's metadata cache shows the outcome, so that its next request
// (produce to the new topic, create the deleted name again) finds it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/broker_services.h"
#include "api/handlers/await_metadata.h"
#include "api/request_context.h"
#include "protocol/error_code.h"

namespace sluice::api {

inline const std::string* TopicNameOf(const std::string& name) { return &name; }
inline const std::string* TopicNameOf(const std::optional<std::string>& name) {
  return name ? &*name : nullptr;
}

// Answers `response` through `ctx` once `outstanding` names none of its
// topics, or at `timeout_ms` with REQUEST_TIMED_OUT and `timed_out_message`
// for each topic still named, as Kafka answers (the change goes on all the
// same). At once when nothing is outstanding, the timeout is not positive,
// or this broker has no metadata cache (a single node, whose changes are
// done when the handler returns). `results` names the response's per-topic
// list, whose items have name, error_code and error_message; items already
// in error keep theirs.
template <typename Response, typename Item>
void RespondWhenSettled(RequestContext&& ctx, Response response,
                        std::vector<Item> Response::*results, Outstanding<std::string> outstanding,
                        int32_t timeout_ms, std::string timed_out_message) {
  BrokerServices& services = *ctx.services;
  if (timeout_ms <= 0 || services.metadata_cache == nullptr) {
    for (const auto& t : response.*results) ctx.RecordError(t.error_code);
    ctx.Respond(response);
    return;
  }
  auto held = std::make_shared<std::pair<RequestContext, Response>>(std::move(ctx),
                                                                    std::move(response));
  AwaitSettled<std::string>(
      *services.metadata_cache, services.timers, std::move(outstanding),
      std::chrono::milliseconds(timeout_ms),
      [held, results, message = std::move(timed_out_message)](std::set<std::string> left) {
        auto& [c, resp] = *held;
        for (auto& t : resp.*results) {
          const std::string* name = TopicNameOf(t.name);
          if (t.error_code == 0 && name != nullptr && left.contains(*name)) {
            t.error_code = protocol::ToWire(protocol::ErrorCode::REQUEST_TIMED_OUT);
            t.error_message = message;
          }
          c.RecordError(t.error_code);
        }
        c.Respond(resp);
      });
}

}  // namespace sluice::api
