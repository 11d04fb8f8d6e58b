// RunAsMetadataTask: how the handlers of metadata changes (CreateTopics,
// DeleteTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs)
// leave the network shard. Their partition-manager calls sync the topic
// table and create or remove directories; `handle` runs on the partition
// manager's metadata thread, in submission order, and answers the request
// from there (a Responder may be answered from any thread). The shard goes
// on serving its other connections meanwhile; the connection's later
// responses still go out in request order.
#pragma once

#include <memory>
#include <utility>

#include "api/request_context.h"

namespace sluice::api {

template <typename Request>
void RunAsMetadataTask(RequestContext ctx, Request request,
                       void (*handle)(RequestContext&, const Request&)) {
  // Shared: the task is a copyable std::function; the context is move-only.
  auto held = std::make_shared<std::pair<RequestContext, Request>>(std::move(ctx),
                                                                    std::move(request));
  cluster::PartitionManager& partitions = held->first.services->partitions;
  partitions.RunMetadataTask([held = std::move(held), handle] { handle(held->first, held->second); });
}

}  // namespace sluice::api
