// Produce: validate every batch before anything is written, append it with
// offsets assigned in place, and answer by acks: 0 never, 1 once appended,
// all (-1) once the flusher's group commit has made the batch durable.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "api/handlers/partition_errors.h"
#include "base/mutex.h"
#include "cluster/topic_name.h"
#include "model/record_batch_header.h"
#include "model/record_batch_validator.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::ProduceResponse;
using protocol::ToWire;
using PartitionResponse = ProduceResponse::PartitionProduceResponse;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SetError(PartitionResponse& r, ErrorCode code, std::string message) {
  r.error_code = ToWire(code);
  r.base_offset = -1;
  r.error_message = std::move(message);
}

// What a successful append still needs: the partition to sync for acks=all.
struct Pending {
  std::shared_ptr<cluster::Partition> partition;
  int64_t end_offset;
  PartitionResponse* response;
  int32_t min_insync_replicas = 1;  // replicated partitions: checked again once committed
  // Appended while the partition had followers (AppendOutcome::replicated):
  // acks=all waits for the ISR.
  bool replicated = false;
};

// Validates and appends one partition's records; fills `r` and the topic's
// min.insync.replicas. Returns the partition when something was appended
// (or found already written).
std::shared_ptr<cluster::Partition> ProducePartition(BrokerServices& services,
                                                     const std::string& topic,
                                                     const protocol::Records& records,
                                                     int16_t acks, PartitionResponse& r,
                                                     int32_t* min_insync_replicas,
                                                     bool* replicated) {
  auto partition = services.partitions.Get(topic, r.index);
  if (!partition) {
    SetError(r, MissingPartitionError(services, topic, r.index),
             fmt::format("this broker holds no replica of {}-{}", topic, r.index));
    return nullptr;
  }
  if (cluster::IsInternalTopic(topic)) {
    // Only the broker writes its internal topics (the group coordinator's
    // state must not be forged by a client), as in Kafka.
    SetError(r, ErrorCode::INVALID_TOPIC_EXCEPTION,
             fmt::format("cannot append to internal topic {}", topic));
    return nullptr;
  }
  auto topic_config = services.partitions.TopicConfigOf(topic);
  if (!topic_config.ok()) {
    SetError(r, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, topic_config.status().message());
    return nullptr;
  }
  if (!partition->is_leader()) {
    SetError(r, ErrorCode::NOT_LEADER_OR_FOLLOWER,
             fmt::format("this broker does not lead {}-{}", topic, r.index));
    return nullptr;
  }
  *min_insync_replicas = topic_config->min_insync_replicas;
  if (const size_t in_sync = partition->isr_size();
      acks == -1 && static_cast<size_t>(std::max(topic_config->min_insync_replicas, 1)) > in_sync) {
    SetError(r, ErrorCode::NOT_ENOUGH_REPLICAS,
             fmt::format("min.insync.replicas is {} but only {} replica(s) are in sync",
                         topic_config->min_insync_replicas, in_sync));
    return nullptr;
  }
  std::span<const uint8_t> bytes = records.bytes();
  if (records.is_null() || bytes.empty()) {
    SetError(r, ErrorCode::INVALID_RECORD, "no records");
    return nullptr;
  }
  if (bytes.size() > static_cast<size_t>(topic_config->max_message_bytes)) {
    SetError(r, ErrorCode::MESSAGE_TOO_LARGE,
             fmt::format("batch of {} bytes exceeds max.message.bytes {}", bytes.size(),
                         topic_config->max_message_bytes));
    return nullptr;
  }
  auto header = model::ParseRecordBatchHeader(bytes);
  if (!header.ok()) {
    SetError(r,
             header.status().code() == StatusCode::kNotSupported
                 ? ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT
                 : ErrorCode::CORRUPT_MESSAGE,
             header.status().message());
    return nullptr;
  }
  if (header->size_bytes() != bytes.size()) {
    SetError(r, ErrorCode::INVALID_RECORD,
             "a produce request must carry exactly one record batch per partition");
    return nullptr;
  }
  if (!model::VerifyBatchCrc(bytes)) {
    SetError(r, ErrorCode::CORRUPT_MESSAGE, "record batch CRC mismatch");
    return nullptr;
  }
  if (header->is_transactional() || header->is_control()) {
    SetError(r, ErrorCode::INVALID_TXN_STATE, "transactions are not supported yet");
    return nullptr;
  }
  // The topic's rules for each record (Kafka's LogValidator): a key on a
  // compacted topic, a CreateTime within the topic's bounds. Every record
  // that breaks one is named in record_errors (KIP-467), so the producer
  // fails exactly those; the batch is refused whole.
  const int64_t now = NowMs();
  const bool log_append_time =
      topic_config->message_timestamp_type == config::TimestampType::kLogAppendTime;
  model::RecordRules rules;
  rules.require_key = topic_config->cleanup_compact;
  rules.check_create_time = !log_append_time;
  rules.now_ms = now;
  rules.before_max_ms = topic_config->message_timestamp_before_max_ms;
  rules.after_max_ms = topic_config->message_timestamp_after_max_ms;
  rules.topic = topic;
  rules.partition = r.index;
  std::vector<model::RecordError> record_errors;
  model::BatchSummary summary;
  Status valid = model::ValidateRecordBatch(bytes, {.rules = &rules}, &summary, &record_errors);
  if (!valid.ok()) {
    const bool timestamp = std::any_of(record_errors.begin(), record_errors.end(), [](const auto& e) {
      return e.kind == model::RecordError::Kind::kInvalidTimestamp;
    });
    SetError(r, timestamp ? ErrorCode::INVALID_TIMESTAMP : ErrorCode::INVALID_RECORD,
             valid.message());
    for (model::RecordError& e : record_errors) {
      auto& out = r.record_errors.emplace_back();
      out.batch_index = e.batch_index;
      out.batch_index_error_message = std::move(e.message);
    }
    return nullptr;
  }
  const int64_t append_time = log_append_time ? now : -1;
  // The batch is a view into this request's own frame, which the handler
  // owns: patching its offset fields in place avoids a copy.
  std::span<uint8_t> mutable_batch(const_cast<uint8_t*>(bytes.data()), bytes.size());
  if (!log_append_time) model::SetMaxTimestamp(mutable_batch, summary.max_timestamp);
  auto outcome = partition->Append(mutable_batch, append_time);
  if (!outcome.ok()) {
    SetError(r, StorageError(outcome.status()), outcome.status().message());
    return nullptr;
  }
  switch (outcome->check) {
    case cluster::SequenceCheck::kOutOfOrder:
      SetError(r, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, "out of order sequence number");
      return nullptr;
    case cluster::SequenceCheck::kStaleEpoch:
      SetError(r, ErrorCode::INVALID_PRODUCER_EPOCH, "producer epoch is older than the current one");
      return nullptr;
    case cluster::SequenceCheck::kAccept:
    case cluster::SequenceCheck::kDuplicate:
      break;
  }
  r.base_offset = outcome->base_offset;
  r.log_append_time_ms = outcome->log_append_time_ms;
  r.log_start_offset = partition->log_start_offset();
  // acks=all on a single replica waits for the flusher, which marks the
  // partition dirty then; with followers it waits for the high watermark,
  // which this replica's flush moves too.
  *replicated = outcome->replicated;
  if (acks != -1 || outcome->replicated) services.partitions.flusher().MarkDirty(partition);
  return partition;
}

// Counts the partition error codes of `response` (sluice_request_errors_total).
void RecordErrors(const RequestContext& ctx, const ProduceResponse& response) {
  for (const auto& topic : response.responses) {
    for (const auto& r : topic.partition_responses) ctx.RecordError(r.error_code);
  }
}

}  // namespace

void HandleProduce(RequestContext ctx, const protocol::ProduceRequest& request) {
  BrokerServices& services = *ctx.services;
  const int16_t acks = request.acks;
  auto response = std::make_shared<ProduceResponse>();
  std::vector<Pending> pending;
  bool any_error = false;

  for (const auto& topic : request.topic_data) {
    auto& topic_response = response->responses.emplace_back();
    topic_response.name = topic.name;
    topic_response.partition_responses.reserve(topic.partition_data.size());
    for (const auto& data : topic.partition_data) {
      PartitionResponse& r = topic_response.partition_responses.emplace_back();
      r.index = data.index;
      if (acks != 0 && acks != 1 && acks != -1) {
        SetError(r, ErrorCode::INVALID_REQUIRED_ACKS, "acks must be 0, 1 or -1");
      } else if (request.transactional_id.has_value()) {
        SetError(r, ErrorCode::INVALID_TXN_STATE, "transactions are not supported yet");
      } else {
        int32_t min_isr = 1;
        bool replicated = false;
        if (auto partition = ProducePartition(services, topic.name, data.records, acks, r,
                                              &min_isr, &replicated)) {
          pending.push_back(Pending{std::move(partition), r.base_offset, &r, min_isr, replicated});
        }
      }
      any_error |= r.error_code != 0;
    }
  }
  // Offsets of each Pending are final now; record the end to sync up to.
  for (Pending& p : pending) p.end_offset = p.partition->log_end_offset();

  if (any_error) RecordErrors(ctx, *response);
  if (acks == 0) {
    // The client reads no response, so an error can only be signalled by
    // closing the connection, as Kafka does.
    if (any_error) {
      ctx.respond.CloseConnection("produce with acks=0 failed");
    } else {
      ctx.respond.NoResponse();
    }
    return;
  }
  if (acks == 1 || pending.empty()) {
    ctx.Respond(*response);
    return;
  }

  // acks=all: answer when every appended partition is durable: on this
  // replica (the flusher) or, with followers, on every ISR member (the high
  // watermark), within the request's timeout_ms.
  struct Waiting {
    Waiting(RequestContext c, std::shared_ptr<ProduceResponse> r, size_t n)
        : ctx(std::move(c)), response(std::move(r)), remaining(n) {}
    RequestContext ctx;
    std::shared_ptr<ProduceResponse> response;
    Mutex mu;
    size_t remaining GUARDED_BY(mu);  // partitions not yet answered
    uint64_t timer_id GUARDED_BY(mu) = 0;
    // Replicated partitions still waiting: their commit waiter ids.
    std::vector<std::pair<Pending, uint64_t>> replicating GUARDED_BY(mu);

    // One partition's outcome; the response goes once all have one.
    void Done(PartitionResponse* r, const Status& s, ErrorCode on_error) EXCLUDES(mu) {
      MutexLock lock(&mu);
      if (!s.ok()) {
        SetError(*r, on_error, s.message());
        ctx.RecordError(r->error_code);  // Earlier errors are counted already.
      }
      if (--remaining > 0) return;
      if (timer_id != 0) ctx.services->timers.Cancel(timer_id);
      lock.Unlock();
      ctx.Respond(*response);
    }

    // timeout_ms passed: the replicated partitions still waiting answer
    // REQUEST_TIMED_OUT (the write stays in the log, as in Kafka).
    void TimeOut() EXCLUDES(mu) {
      std::vector<PartitionResponse*> expired;
      {
        MutexLock lock(&mu);
        timer_id = 0;
        for (auto& [p, id] : replicating) {
          if (p.partition->CancelCommitWaiter(id)) expired.push_back(p.response);
        }
        replicating.clear();
      }
      for (PartitionResponse* r : expired) {
        Done(r, Status::Aborted("not replicated to the in-sync replicas within timeout_ms"),
             ErrorCode::REQUEST_TIMED_OUT);
      }
    }
  };
  auto waiting = std::make_shared<Waiting>(std::move(ctx), response, pending.size());
  std::vector<Pending> replicated;
  for (Pending& p : pending) {
    PartitionResponse* r = p.response;
    if (p.replicated) {
      replicated.push_back(p);
      continue;
    }
    services.partitions.flusher().WhenDurable(p.partition, p.end_offset, [waiting, r](Status s) {
      waiting->Done(r, s, ErrorCode::KAFKA_STORAGE_ERROR);
    });
  }
  if (replicated.empty()) return;
  // Registered without `mu`: a waiter may run at once, on this thread.
  std::vector<std::pair<Pending, uint64_t>> ids;
  for (Pending& p : replicated) {
    PartitionResponse* r = p.response;
    const size_t min_isr = static_cast<size_t>(std::max(p.min_insync_replicas, 1));
    const uint64_t id =
        p.partition->WhenCommitted(p.end_offset, [waiting, r, min_isr](Status s, size_t isr) {
          if (s.ok() && isr < min_isr) {
            // Committed by an ISR that shrank below min.insync.replicas
            // meanwhile: the write is in the log but not acknowledged.
            waiting->Done(r,
                          Status::Aborted(fmt::format(
                              "the ISR shrank to {} replica(s), below min.insync.replicas {}",
                              isr, min_isr)),
                          ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND);
            return;
          }
          waiting->Done(r, s, ErrorCode::NOT_LEADER_OR_FOLLOWER);
        });
    if (id != 0) ids.emplace_back(p, id);
  }
  MutexLock lock(&waiting->mu);
  if (waiting->remaining == 0 || ids.empty()) return;
  waiting->replicating = std::move(ids);
  waiting->timer_id = services.timers.Schedule(
      std::chrono::milliseconds(std::max(request.timeout_ms, 0)), [waiting] { waiting->TimeOut(); });
}

}  // namespace sluice::api
