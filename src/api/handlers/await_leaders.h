// How CreateTopics and CreatePartitions in a cluster wait for the
// controller, as Kafka's do. Writing the znodes is only the request; the
// controller then elects a leader for each new partition and tells every
// broker (UpdateMetadata). A client that produces right after a successful
// CreateTopics expects the partitions to have leaders, so the answer waits
// until this broker's metadata cache shows a leader for every partition the
// request made, or the request's timeout_ms passes.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/handlers/respond_when_settled.h"
#include "cluster/metadata_cache.h"

namespace sluice::api {

// The topics of `partition_counts` (topic -> partition count) some
// partition [0, count) of which has no leader in `snapshot`.
std::set<std::string> TopicsWithoutLeaders(const cluster::MetadataSnapshot& snapshot,
                                           const std::map<std::string, int32_t>& partition_counts);

// RespondWhenSettled, waiting for leaders of `created` (topic -> partition
// count, of the topics the request made or grew); the topics still without
// leaders at the timeout were created all the same.
template <typename Response, typename Item>
void RespondWhenLed(RequestContext&& ctx, Response response, std::vector<Item> Response::*results,
                    std::map<std::string, int32_t> created, int32_t timeout_ms) {
  RespondWhenSettled(
      std::move(ctx), std::move(response), results,
      [created = std::move(created)](const cluster::MetadataSnapshot& s) {
        return TopicsWithoutLeaders(s, created);
      },
      timeout_ms, "Timed out waiting for the partitions' leaders");
}

}  // namespace sluice::api
