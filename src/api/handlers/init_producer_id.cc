// InitProducerId for idempotent producers: a fresh producer id with epoch 0,
// or (KIP-360, v3+) the same id with a bumped epoch. Transactional ids need
// a transaction coordinator, which this broker does not have yet.
#include <optional>

#include "api/handlers/handlers.h"
#include "api/handlers/metadata_task.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

// Answers a fresh producer id at epoch 0, or KAFKA_STORAGE_ERROR when none
// could be reserved.
void AnswerFreshId(RequestContext& ctx, const Result<int64_t>& id) {
  protocol::InitProducerIdResponse response;
  if (id.ok()) {
    response.producer_id = *id;
    response.producer_epoch = 0;
  } else {
    response.error_code = protocol::ToWire(protocol::ErrorCode::KAFKA_STORAGE_ERROR);
  }
  ctx.RecordError(response.error_code);
  ctx.Respond(response);
}

void AnswerFromNewBlock(RequestContext& ctx, const protocol::InitProducerIdRequest&) {
  AnswerFreshId(ctx, ctx.services->producer_ids.Next());
}

}  // namespace

void HandleInitProducerId(RequestContext ctx, protocol::InitProducerIdRequest request) {
  protocol::InitProducerIdResponse response;
  using protocol::ErrorCode;
  if (request.transactional_id.has_value()) {
    // Fatal for the client (not retriable), which is the honest answer:
    // retrying cannot help until transactions are implemented.
    response.error_code = protocol::ToWire(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    ctx.RecordError(response.error_code);
    ctx.Respond(response);
    return;
  }
  if (request.producer_id >= 0 && request.producer_epoch >= 0 &&
      request.producer_epoch < INT16_MAX - 1) {
    response.producer_id = request.producer_id;
    response.producer_epoch = static_cast<int16_t>(request.producer_epoch + 1);
    ctx.RecordError(response.error_code);
    ctx.Respond(response);
    return;
  }
  if (std::optional<int64_t> id = ctx.services->producer_ids.TryNext()) {
    AnswerFreshId(ctx, *id);
    return;
  }
  // A new block of ids: a sync of the block file, or a ZooKeeper round trip
  // in a cluster, off the shard (metadata_task.h), once per 1000 ids.
  RunAsMetadataTask(std::move(ctx), std::move(request), &AnswerFromNewBlock);
}

}  // namespace sluice::api
