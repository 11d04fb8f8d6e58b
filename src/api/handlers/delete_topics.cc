// DeleteTopics. On a single node the topic's logs go at once (internal
// topics refused). In a ZooKeeper cluster (BrokerServices::cluster_admin)
// the topic is marked for deletion and the controller deletes it; the
// answer waits, as Kafka's does, until this broker's metadata cache no
// longer holds the topic, or timeout_ms passes (REQUEST_TIMED_OUT: the
// deletion goes on). A client that creates the same name right after a
// successful delete sees it gone from Metadata. A topic already marked but
// still listed is waited for the same way; one this broker no longer lists
// is UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers a repeated delete.
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "api/handlers/respond_when_settled.h"
#include "cluster/topic_name.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::DeleteTopicsResponse;
using protocol::ErrorCode;
using protocol::ToWire;

// The topics of `names` that `snapshot` still holds.
std::set<std::string> StillThere(const cluster::MetadataSnapshot& snapshot,
                                 const std::set<std::string>& names) {
  std::set<std::string> left;
  for (const std::string& n : names) {
    if (snapshot.topics.contains(n)) left.insert(n);
  }
  return left;
}

void DeleteTopicsNow(RequestContext& ctx, const protocol::DeleteTopicsRequest& request) {
  BrokerServices& services = *ctx.services;
  DeleteTopicsResponse response;
  std::vector<std::optional<std::string>> names;
  if (ctx.version() >= 6) {
    for (const auto& t : request.topics) names.push_back(t.name);
  } else {
    for (const auto& n : request.topic_names) names.emplace_back(n);
  }
  const bool enabled = services.config.GetBool("delete.topic.enable");
  std::set<std::string> marked;  // in a cluster: to wait for
  for (const auto& name : names) {
    auto& r = response.responses.emplace_back();
    r.name = name;
    if (!name) {
      r.error_code = ToWire(ErrorCode::UNKNOWN_TOPIC_ID);  // Deletion by id: not yet.
      continue;
    }
    if (!enabled) {
      r.error_code = ToWire(ErrorCode::TOPIC_DELETION_DISABLED);
      continue;
    }
    if (services.cluster_admin != nullptr) {
      // As Kafka's broker: a topic its metadata does not list is unknown,
      // also one whose deletion is still being finished (its znodes go
      // last), so a second delete of it fails as clients expect.
      std::shared_ptr<const cluster::MetadataSnapshot> known =
          services.metadata_cache != nullptr ? services.metadata_cache->Current() : nullptr;
      if (known && known->informed && !known->topics.contains(*name)) {
        r.error_code = ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
        r.error_message = fmt::format("The topic '{}' does not exist.", *name);
        continue;
      }
      // Marked for deletion in ZooKeeper (internal topics refused there too);
      // the controller deletes it.
      DeletedTopic deleted = services.cluster_admin->DeleteTopic(*name);
      r.topic_id.bytes = deleted.topic_id;
      if (!deleted.ok()) {
        r.error_code = ToWire(deleted.error);
        r.error_message = std::move(deleted.message);
      } else {
        marked.insert(*name);
      }
      continue;
    }
    auto info = services.partitions.FindTopic(*name);
    if (info) r.topic_id.bytes = info->id;
    if (info && cluster::IsInternalTopic(*name)) {
      // Kafka's broker would delete it (only its kafka-topics tool refuses,
      // with this message); deleting __consumer_offsets loses every group's
      // committed offsets, so the broker refuses, with the code Kafka's
      // broker gives for the client operations it refuses on internal topics
      // (appends, DeleteRecords).
      r.error_code = ToWire(ErrorCode::INVALID_TOPIC_EXCEPTION);
      r.error_message = fmt::format(
          "Topic {} is a kafka internal topic and is not allowed to be marked for deletion.", *name);
      continue;
    }
    Status s = services.partitions.DeleteTopic(*name);
    if (s.IsNotFound()) {
      r.error_code = ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    } else if (!s.ok()) {
      r.error_code = ToWire(ErrorCode::UNKNOWN_SERVER_ERROR);
      r.error_message = s.message();
    }
  }
  // In a cluster, answered once this broker no longer lists the topics.
  RespondWhenSettled(
      std::move(ctx), std::move(response), &DeleteTopicsResponse::responses,
      [marked = std::move(marked)](const cluster::MetadataSnapshot& s) {
        return StillThere(s, marked);
      },
      request.timeout_ms, "Timed out waiting for the topic's deletion");
}

}  // namespace

// Removes logs (disk I/O), or writes ZooKeeper in a cluster: runs on the
// metadata thread (metadata_task.h).
void HandleDeleteTopics(RequestContext ctx, protocol::DeleteTopicsRequest request) {
  RunAsMetadataTask(std::move(ctx), std::move(request), &DeleteTopicsNow);
}

}  // namespace sluice::api
