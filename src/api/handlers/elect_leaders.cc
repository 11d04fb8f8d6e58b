// ElectLeaders (KIP-183, KIP-460): an admin asks the controller to elect
// leaders, the preferred replica (type 0, the only one in v0) or, for a
// partition without a live leader, any live replica (type 1, unclean).
// Served by the controller (api::ControllerService); any other broker
// answers NOT_CONTROLLER, at the top level from v1 and for every partition
// named, as Kafka's ZooKeeper-mode brokers do. A null partition list means
// every partition. As Kafka's, the answer waits, up to timeout_ms, until
// this broker's own metadata cache shows each elected partition at a newer
// leader epoch than before the request (REQUEST_TIMED_OUT for one that does
// not get there: it is elected all the same), so that a Metadata right
// after the answer names the new leaders. Cluster-only.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/handlers/await_metadata.h"
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using controller::ElectionError;
using controller::TopicPartition;
using protocol::ElectLeadersRequest;
using protocol::ElectLeadersResponse;
using protocol::ErrorCode;
using protocol::ToWire;

ErrorCode ToErrorCode(ElectionError e) {
  switch (e) {
    case ElectionError::kNone: return ErrorCode::NONE;
    case ElectionError::kNotController: return ErrorCode::NOT_CONTROLLER;
    case ElectionError::kUnknownTopicOrPartition: return ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
    case ElectionError::kElectionNotNeeded: return ErrorCode::ELECTION_NOT_NEEDED;
    case ElectionError::kPreferredLeaderNotAvailable:
      return ErrorCode::PREFERRED_LEADER_NOT_AVAILABLE;
    case ElectionError::kEligibleLeadersNotAvailable:
      return ErrorCode::ELIGIBLE_LEADERS_NOT_AVAILABLE;
    case ElectionError::kWriteFailed: return ErrorCode::UNKNOWN_SERVER_ERROR;
  }
  return ErrorCode::UNKNOWN_SERVER_ERROR;
}

std::optional<std::string> Message(ElectionError e, ElectionType type) {
  switch (e) {
    case ElectionError::kNone: return std::nullopt;
    case ElectionError::kNotController: return "This broker is not the controller.";
    case ElectionError::kUnknownTopicOrPartition: return "The partition does not exist.";
    case ElectionError::kElectionNotNeeded:
      return type == ElectionType::kPreferred ? "The preferred replica already leads."
                                              : "The partition has a live leader.";
    case ElectionError::kPreferredLeaderNotAvailable:
      return "The preferred replica is not live or not in the ISR.";
    case ElectionError::kEligibleLeadersNotAvailable:
      return "No replica of the partition is live.";
    case ElectionError::kWriteFailed: return "Writing the partition's state to ZooKeeper failed.";
  }
  return std::nullopt;
}

// The partitions named, each once, in the order first named; nullopt: all.
std::optional<std::vector<TopicPartition>> Named(const ElectLeadersRequest& request) {
  if (!request.topic_partitions) return std::nullopt;
  std::vector<TopicPartition> out;
  std::set<TopicPartition> seen;
  for (const auto& t : *request.topic_partitions) {
    for (int32_t p : t.partition_id) {
      TopicPartition tp{t.topic, p};
      if (seen.insert(tp).second) out.push_back(std::move(tp));
    }
  }
  return out;
}

// Every partition of `named` with `error` (a request-level failure).
ElectLeadersOutcome AllFailed(const std::optional<std::vector<TopicPartition>>& named,
                              ElectionError error) {
  ElectLeadersOutcome out;
  if (named) {
    for (const TopicPartition& tp : *named) out.partitions[tp] = error;
  }
  return out;
}

// `timed_out`: partitions elected but not yet seen here (REQUEST_TIMED_OUT).
void AnswerElection(RequestContext& ctx, ElectionType type, ErrorCode top_level,
                    const ElectLeadersOutcome& outcome,
                    const std::set<TopicPartition>& timed_out = {}) {
  ElectLeadersResponse response;
  response.error_code = ToWire(top_level);
  if (ctx.version() >= 1) ctx.RecordError(response.error_code);
  // Ordered by topic, then partition: one entry per topic.
  for (const auto& [tp, error] : outcome.partitions) {
    if (response.replica_election_results.empty() ||
        response.replica_election_results.back().topic != tp.topic) {
      response.replica_election_results.emplace_back().topic = tp.topic;
    }
    auto& p = response.replica_election_results.back().partition_result.emplace_back();
    p.partition_id = tp.partition;
    if (timed_out.contains(tp)) {
      p.error_code = ToWire(ErrorCode::REQUEST_TIMED_OUT);
      p.error_message = "Elected, but the new leader was not known here within the timeout.";
    } else {
      p.error_code = ToWire(ToErrorCode(error));
      p.error_message = Message(error, type);
    }
    ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

// The leader epoch `snapshot` holds for `tp` (-1: none).
int32_t CachedEpoch(const cluster::MetadataSnapshot& snapshot, const TopicPartition& tp) {
  auto t = snapshot.topics.find(tp.topic);
  if (t == snapshot.topics.end()) return -1;
  auto p = t->second.partitions.find(tp.partition);
  return p == t->second.partitions.end() ? -1 : p->second.leader_epoch;
}

// The partitions of `elected` whose leader epoch in `now` is not yet past
// the one in `before`.
std::set<TopicPartition> NotYetSeen(const std::vector<TopicPartition>& elected,
                                    const cluster::MetadataSnapshot& before,
                                    const cluster::MetadataSnapshot& now) {
  std::set<TopicPartition> out;
  for (const TopicPartition& tp : elected) {
    if (CachedEpoch(now, tp) <= CachedEpoch(before, tp)) out.insert(tp);
  }
  return out;
}

// Answers `outcome` once this broker's cache shows every partition it
// elected (see the top of the file), or at `timeout_ms`.
void AnswerWhenSeen(std::shared_ptr<RequestContext> held, ElectionType type,
                    ElectLeadersOutcome outcome,
                    std::shared_ptr<const cluster::MetadataSnapshot> before, int32_t timeout_ms) {
  std::vector<TopicPartition> elected;
  for (const auto& [tp, error] : outcome.partitions) {
    if (error == ElectionError::kNone) elected.push_back(tp);
  }
  cluster::MetadataCache* cache = held->services->metadata_cache;
  if (elected.empty() || timeout_ms <= 0 || cache == nullptr || before == nullptr) {
    AnswerElection(*held, type, ErrorCode::NONE, outcome);
    return;
  }
  auto shared = std::make_shared<const ElectLeadersOutcome>(std::move(outcome));
  AwaitSettled<TopicPartition>(
      *cache, held->services->timers,
      [elected = std::move(elected), before](const cluster::MetadataSnapshot& now) {
        return NotYetSeen(elected, *before, now);
      },
      std::chrono::milliseconds(timeout_ms),
      [held, type, shared](std::set<TopicPartition> not_seen) {
        AnswerElection(*held, type, ErrorCode::NONE, *shared, not_seen);
      });
}

}  // namespace

void HandleElectLeaders(RequestContext ctx, ElectLeadersRequest request) {
  std::optional<std::vector<TopicPartition>> named = Named(request);
  // v0 has no type: it is a preferred election.
  const int8_t wire_type = ctx.version() >= 1 ? request.election_type : 0;
  if (wire_type != static_cast<int8_t>(ElectionType::kPreferred) &&
      wire_type != static_cast<int8_t>(ElectionType::kUnclean)) {
    ElectLeadersResponse response;
    response.error_code = ToWire(ErrorCode::INVALID_REQUEST);
    ctx.RecordError(response.error_code);
    ctx.Respond(response);
    return;
  }
  const auto type = static_cast<ElectionType>(wire_type);
  auto held = std::make_shared<RequestContext>(std::move(ctx));
  // What this broker knew before: the answer waits for it to know more.
  std::shared_ptr<const cluster::MetadataSnapshot> before =
      held->services->metadata_cache != nullptr ? held->services->metadata_cache->Current()
                                                : nullptr;
  ControllerService* controller = held->services->controller;
  controller->ElectLeaders(
      type, named,
      [held, type, named, before, timeout_ms = request.timeout_ms](ElectLeadersOutcome outcome) {
        if (outcome.not_controller) {
          AnswerElection(*held, type, ErrorCode::NOT_CONTROLLER,
                         AllFailed(named, ElectionError::kNotController));
          return;
        }
        AnswerWhenSeen(held, type, std::move(outcome), before, timeout_ms);
      });
}

}  // namespace sluice::api
