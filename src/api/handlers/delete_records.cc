// DeleteRecords: raises partitions' log start offsets. -1 means the high
// watermark; an offset above the high watermark (or below -1) is
// OFFSET_OUT_OF_RANGE; one at or below the current start changes nothing.
// The answer's low_watermark is the log start offset afterwards. The new
// start is durable before the answer (storage persists it), so timeout_ms
// has nothing to wait for on a single node.
#include <fmt/format.h>

#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "api/handlers/partition_errors.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

constexpr int64_t kHighWatermark = -1;

}  // namespace

void HandleDeleteRecords(RequestContext ctx, protocol::DeleteRecordsRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::DeleteRecordsResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_response = response.topics.emplace_back();
    topic_response.name = topic.name;
    // Kafka refuses DeleteRecords on a topic whose cleanup.policy lacks
    // "delete" (a compacted topic's records go by key, not by offset).
    auto topic_config = services.partitions.TopicConfigOf(topic.name);
    for (const auto& want : topic.partitions) {
      auto& r = topic_response.partitions.emplace_back();
      r.partition_index = want.partition_index;
      r.low_watermark = -1;
      auto partition = services.partitions.Get(topic.name, want.partition_index);
      if (!partition || !topic_config.ok()) {
        r.error_code = ToWire(MissingPartitionError(services, topic.name, want.partition_index));
        continue;
      }
      if (!topic_config->cleanup_delete) {
        r.error_code = ToWire(ErrorCode::POLICY_VIOLATION);
        continue;
      }
      const int64_t offset =
          want.offset == kHighWatermark ? partition->high_watermark() : want.offset;
      auto low = partition->DeleteRecordsBefore(offset);
      if (!low.ok()) {
        r.error_code = ToWire(StorageError(low.status()));
        continue;
      }
      r.low_watermark = *low;
    }
  }
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
