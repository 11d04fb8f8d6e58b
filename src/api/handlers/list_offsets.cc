// ListOffsets: earliest (-2), latest (-1) and by timestamp. "Latest" is the
// high watermark: the offsets a consumer can actually read up to.
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ToWire;

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;

}  // namespace

void HandleListOffsets(RequestContext ctx, protocol::ListOffsetsRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_response = response.topics.emplace_back();
    topic_response.name = topic.name;
    for (const auto& want : topic.partitions) {
      auto& r = topic_response.partitions.emplace_back();
      r.partition_index = want.partition_index;
      auto partition = services.partitions.Get(topic.name, want.partition_index);
      if (!partition) {
        r.error_code = ToWire(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      if (want.current_leader_epoch >= 0 && want.current_leader_epoch != partition->leader_epoch()) {
        r.error_code = ToWire(want.current_leader_epoch > partition->leader_epoch()
                                  ? ErrorCode::UNKNOWN_LEADER_EPOCH
                                  : ErrorCode::FENCED_LEADER_EPOCH);
        continue;
      }
      storage::Log& log = partition->log();
      const int64_t hw = partition->high_watermark();
      r.leader_epoch = partition->leader_epoch();
      if (want.timestamp == kEarliest) {
        r.offset = log.log_start_offset();
      } else if (want.timestamp == kLatest) {
        r.offset = hw;
      } else if (want.timestamp < 0) {
        r.error_code = ToWire(ErrorCode::INVALID_REQUEST);
      } else {
        auto found = log.FindOffsetByTimestamp(want.timestamp);
        if (!found.ok()) {
          r.error_code = ToWire(ErrorCode::KAFKA_STORAGE_ERROR);
        } else if (found->has_value() && (*found)->offset < hw) {
          r.offset = (*found)->offset;
          r.timestamp = (*found)->timestamp;
        }
        // Otherwise no record at or after the timestamp: offset and timestamp stay -1.
      }
    }
  }
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) ctx.RecordError(p.error_code);
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
