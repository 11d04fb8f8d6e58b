// AwaitLeaders: how CreateTopics and CreatePartitions in a cluster wait for
// the controller, as Kafka's do. Writing the znodes is only the request; the
// controller then elects a leader for each new partition and tells every
// broker (UpdateMetadata). A client that produces right after a successful
// CreateTopics expects the partitions to have leaders, so the answer waits
// until this broker's metadata cache shows a leader for every partition the
// request made, or the request's timeout_ms passes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/broker_services.h"
#include "api/request_context.h"
#include "base/timers.h"
#include "cluster/metadata_cache.h"
#include "protocol/error_code.h"

namespace sluice::api {

// Calls `done` once, from whichever thread saw the outcome (an UpdateMetadata
// or the timer): with no topic when every partition [0, count) of each
// topic in `partition_counts` has a leader in `cache`, or, at `timeout`,
// with the topics some of whose partitions have none. Never blocks.
void AwaitLeaders(cluster::MetadataCache& cache, Timers& timers,
                  std::map<std::string, int32_t> partition_counts,
                  std::chrono::milliseconds timeout,
                  std::function<void(std::set<std::string> without_leaders)> done);

// The topics of `partition_counts` some partition of which has no leader in
// `snapshot`.
std::set<std::string> TopicsWithoutLeaders(const cluster::MetadataSnapshot& snapshot,
                                           const std::map<std::string, int32_t>& partition_counts);

// Answers `response` through `ctx`: at once when `created` (topic ->
// partition count, of the topics the request made or grew) is empty, the
// timeout is not positive or this broker has no metadata cache (a single
// node); else once AwaitLeaders finishes, with REQUEST_TIMED_OUT for each
// topic still without leaders, as Kafka answers (created all the same; the
// leaders come later). `results` names the response's per-topic list, whose
// items have name, error_code and error_message.
template <typename Response, typename Item>
void RespondWhenLed(RequestContext&& ctx, Response response, std::vector<Item> Response::*results,
                    std::map<std::string, int32_t> created, int32_t timeout_ms) {
  BrokerServices& services = *ctx.services;
  if (created.empty() || timeout_ms <= 0 || services.metadata_cache == nullptr) {
    for (const auto& t : response.*results) ctx.RecordError(t.error_code);
    ctx.Respond(response);
    return;
  }
  auto held = std::make_shared<std::pair<RequestContext, Response>>(std::move(ctx),
                                                                    std::move(response));
  AwaitLeaders(*services.metadata_cache, services.timers, std::move(created),
               std::chrono::milliseconds(timeout_ms),
               [held, results](std::set<std::string> without_leaders) {
                 auto& [c, resp] = *held;
                 for (auto& t : resp.*results) {
                   if (t.error_code == 0 && without_leaders.contains(t.name)) {
                     t.error_code = protocol::ToWire(protocol::ErrorCode::REQUEST_TIMED_OUT);
                     t.error_message = "Timed out waiting for the partitions' leaders";
                   }
                   c.RecordError(t.error_code);
                 }
                 c.Respond(resp);
               });
}

}  // namespace sluice::api
