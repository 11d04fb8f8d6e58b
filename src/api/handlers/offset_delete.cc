// OffsetDelete: removes committed offsets of partitions the group no longer
// consumes (GROUP_SUBSCRIBED_TO_TOPIC for topics a member still subscribes to).
#include <memory>

#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {

void HandleOffsetDelete(RequestContext ctx, protocol::OffsetDeleteRequest request) {
  std::vector<group::PartitionKey> keys;
  for (const auto& t : request.topics) {
    for (const auto& p : t.partitions) keys.push_back({t.name, p.partition_index});
  }
  auto shared = std::make_shared<RequestContext>(std::move(ctx));
  BrokerServices& services = *shared->services;
  services.groups.DeleteOffsets(
      request.group_id, std::move(keys),
      [shared, topics = std::move(request.topics)](protocol::ErrorCode error,
                                                   std::vector<group::PartitionError> results) {
        protocol::OffsetDeleteResponse response;
        response.error_code = protocol::ToWire(error);
        shared->RecordError(response.error_code);
        if (error == protocol::ErrorCode::NONE) {
          size_t i = 0;
          for (const auto& t : topics) {
            auto& out = response.topics.emplace_back();
            out.name = t.name;
            for (const auto& p : t.partitions) {
              auto& r = out.partitions.emplace_back();
              r.partition_index = p.partition_index;
              protocol::ErrorCode e = i < results.size() ? results[i].error
                                                         : protocol::ErrorCode::NONE;
              if (e == protocol::ErrorCode::NONE &&
                  !PartitionExists(*shared->services, t.name, p.partition_index)) {
                e = protocol::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
              }
              r.error_code = protocol::ToWire(e);
              shared->RecordError(r.error_code);
              ++i;
            }
          }
        }
        shared->Respond(response);
      });
}

}  // namespace sluice::api
