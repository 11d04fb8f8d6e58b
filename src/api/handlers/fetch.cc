// Fetch: record data goes out as file ranges of the segments (sendfile),
// bounded by the high watermark, max_bytes and partition_max_bytes (the
// first batch found is always returned whole so a consumer can progress).
// With too little data the request waits (long polling) until a flush moves
// a high watermark or max_wait_ms passes, whichever comes first.
//
// Fetch sessions (KIP-227): this broker declines to create them (answers
// session id 0), which the protocol allows; every fetch is a full fetch.
//
// A fetch with a replica id (>= 0) is a follower replicating: it reads up to
// the log end, not the high watermark, its fetch offset tells the leader how
// far that follower has the log durably (cluster/replica_set.h), and it is
// woken by appends as well as by high-watermark advances. Any other fetch
// is a consumer's and only the leader serves it.
//
// Leader replication throttle (KIP-73): a follower that is not in the ISR,
// fetching a partition whose topic names this broker in
// leader.replication.throttled.replicas, gets no data while this broker's
// leader quota (leader.replication.throttled.rate) is exceeded, and what
// it does get counts against the quota. In-sync followers are never held
// back, so acks=all does not wait on a throttle.
#include <algorithm>
#include <memory>
#include <vector>

#include "api/handlers/cluster_state.h"
#include "api/handlers/handlers.h"
#include "api/handlers/partition_errors.h"
#include "base/mutex.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::ToWire;

// Joins the leading slices that continue each other in one file; a read
// spanning segments returns the first segment's part (as Kafka does).
FileSlice FirstContiguous(const std::vector<FileSlice>& slices) {
  FileSlice out = slices.front();
  for (size_t i = 1; i < slices.size(); ++i) {
    const FileSlice& s = slices[i];
    if (s.fd != out.fd || s.offset != out.offset + out.length) break;
    out.length += s.length;
  }
  return out;
}

struct Built {
  FetchResponse response;
  uint64_t bytes = 0;
  bool has_error = false;
  uint64_t throttled_bytes = 0;  // sent for throttled replicas
  uint64_t held_back = 0;        // throttled replicas left without data
};

// The leader throttle for one follower fetch: whether a partition's data
// counts against the quota, and whether the quota holds it back.
class LeaderThrottle {
 public:
  LeaderThrottle(BrokerServices& services, const FetchRequest& request)
      : services_(services),
        replica_id_(request.replica_id),
        on_(request.replica_id >= 0 && services.leader_quota != nullptr &&
            services.leader_quota->bounded()) {}

  // Whether `partition`'s data for this follower counts against the quota.
  bool Applies(const std::string& topic, cluster::Partition& partition) {
    if (!on_) return false;
    const std::vector<int32_t> isr = partition.isr();
    if (std::find(isr.begin(), isr.end(), replica_id_) != isr.end()) return false;
    auto config = services_.partitions.TopicConfigOf(topic);
    return config.ok() &&
           config->leader_throttled_replicas.Names(partition.tp().partition, services_.broker_id);
  }
  // Whether the quota is exceeded (asked once per response).
  bool Exceeded() {
    if (!asked_) {
      exceeded_ = services_.leader_quota->Exceeded();
      asked_ = true;
    }
    return exceeded_;
  }

 private:
  BrokerServices& services_;
  const int32_t replica_id_;
  const bool on_;
  // Two bools rather than an optional: gcc -O2 takes an optional<bool>
  // here for maybe-uninitialized.
  bool asked_ = false;
  bool exceeded_ = false;
};

Built BuildResponse(BrokerServices& services, const FetchRequest& request, int16_t version) {
  Built built;
  LeaderThrottle throttle(services, request);
  int64_t budget = version >= 3 ? request.max_bytes : INT32_MAX;
  if (request.session_id != 0) {
    // We never hand out sessions, so no id can be valid.
    built.response.error_code = ToWire(ErrorCode::FETCH_SESSION_ID_NOT_FOUND);
    built.has_error = true;
    return built;
  }
  for (const auto& topic : request.topics) {
    auto& topic_response = built.response.responses.emplace_back();
    topic_response.topic = topic.topic;
    for (const auto& want : topic.partitions) {
      auto& r = topic_response.partitions.emplace_back();
      r.partition_index = want.partition;
      auto partition = services.partitions.Get(topic.topic, want.partition);
      if (!partition) {
        r.error_code = ToWire(MissingPartitionError(services, topic.topic, want.partition));
        r.high_watermark = -1;
        built.has_error = true;
        continue;
      }
      const bool follower = request.replica_id >= 0;
      const int64_t hw = partition->high_watermark();
      r.high_watermark = hw;
      r.last_stable_offset = hw;  // No transactions yet: everything below HW is stable.
      r.log_start_offset = partition->log_start_offset();
      if (ErrorCode e = LeaderEpochError(*partition, want.current_leader_epoch);
          e != ErrorCode::NONE) {
        r.error_code = ToWire(e);
        built.has_error = true;
        continue;
      }
      if (want.fetch_offset < partition->log_start_offset() ||
          want.fetch_offset > partition->log_end_offset()) {
        r.error_code = ToWire(ErrorCode::OFFSET_OUT_OF_RANGE);
        built.has_error = true;
        continue;
      }
      const int64_t visible = follower ? partition->log_end_offset() : hw;
      if (want.fetch_offset >= visible) continue;
      if (budget <= 0 && built.bytes > 0) continue;
      const bool throttled = throttle.Applies(topic.topic, *partition);
      if (throttled && throttle.Exceeded()) {
        ++built.held_back;
        continue;
      }
      const int64_t limit = std::max<int64_t>(0, std::min<int64_t>(want.partition_max_bytes, budget));
      auto read = partition->Read(want.fetch_offset, static_cast<uint64_t>(limit), visible);
      if (!read.ok()) {
        r.error_code = ToWire(StorageError(read.status()));
        built.has_error = true;
        continue;
      }
      if (read->slices.empty()) continue;
      FileSlice slice = FirstContiguous(read->slices);
      budget -= static_cast<int64_t>(slice.length);
      built.bytes += slice.length;
      if (throttled) built.throttled_bytes += slice.length;
      r.records = protocol::Records::File(std::move(slice));
    }
  }
  return built;
}

// Answers with `built`, counting its error codes and its throttled
// traffic first (only a response sent counts against the quota: a waiting
// fetch builds several).
void SendBuilt(RequestContext& ctx, const Built& built) {
  if (replication::ReplicationQuota* quota = ctx.services->leader_quota) {
    if (built.throttled_bytes > 0) quota->Record(built.throttled_bytes);
    if (built.held_back > 0) quota->CountHeldBack(built.held_back);
  }
  if (built.has_error) {
    ctx.RecordError(built.response.error_code);
    for (const auto& topic : built.response.responses) {
      for (const auto& r : topic.partitions) ctx.RecordError(r.error_code);
    }
  }
  ctx.Respond(built.response);
}

// A fetch waiting for data: completed once, by a high-watermark advance
// with enough data or by its timer.
struct WaitingFetch : std::enable_shared_from_this<WaitingFetch> {
  RequestContext ctx;
  FetchRequest request;
  Mutex mu;
  bool done GUARDED_BY(mu) = false;
  uint64_t timer_id GUARDED_BY(mu) = 0;
  std::vector<std::pair<std::shared_ptr<cluster::Partition>, uint64_t>> waiters GUARDED_BY(mu);

  void ArmWaiters() REQUIRES(mu) {
    DisarmWaiters();
    for (const auto& topic : request.topics) {
      for (const auto& want : topic.partitions) {
        auto p = ctx.services->partitions.Get(topic.topic, want.partition);
        if (!p) continue;
        std::weak_ptr<WaitingFetch> weak = weak_from_this();
        uint64_t id = p->AddWaiter([weak] {
          if (auto self = weak.lock()) self->OnDataMaybe();
        });
        waiters.emplace_back(std::move(p), id);
      }
    }
  }

  void DisarmWaiters() REQUIRES(mu) {
    for (auto& [p, id] : waiters) p->RemoveWaiter(id);
    waiters.clear();
  }

  void OnDataMaybe() EXCLUDES(mu) {
    MutexLock lock(&mu);
    if (done) return;
    Built built = BuildResponse(*ctx.services, request, ctx.version());
    if (built.bytes < static_cast<uint64_t>(std::max(request.min_bytes, 1)) && !built.has_error) {
      ArmWaiters();  // Not enough yet: wait for the next advance.
      return;
    }
    Finish();
    lock.Unlock();
    SendBuilt(ctx, built);
  }

  void OnTimeout() EXCLUDES(mu) {
    MutexLock lock(&mu);
    if (done) return;
    timer_id = 0;
    Built built = BuildResponse(*ctx.services, request, ctx.version());
    Finish();
    lock.Unlock();
    SendBuilt(ctx, built);
  }

  // Marks the fetch answered; the caller sends the response after releasing
  // mu (sending may run a connection's completion inline).
  void Finish() REQUIRES(mu) {
    done = true;
    if (metrics::BrokerMetrics* m = ctx.services->metrics) m->fetches_waiting().Decrement();
    DisarmWaiters();
    if (timer_id != 0) ctx.services->timers.Cancel(timer_id);
  }
};

// A follower's fetch offsets are its progress: recorded once per request,
// before anything is built (moving a high watermark runs waiters, which
// must not find a waiting fetch's lock held). A replica id that names no
// replica of a partition gets NOT_LEADER_OR_FOLLOWER for it.
bool RecordFollowerProgress(BrokerServices& services, const FetchRequest& request) {
  bool refused = false;
  const int64_t now = services.timers.NowMs();
  for (const auto& topic : request.topics) {
    for (const auto& want : topic.partitions) {
      auto partition = services.partitions.Get(topic.topic, want.partition);
      if (!partition || !partition->is_leader()) continue;
      refused |= !partition->OnFollowerFetch(request.replica_id, want.fetch_offset, now).ok();
    }
  }
  return refused;
}

void RefuseUnknownReplica(RequestContext& ctx, const FetchRequest& request) {
  FetchResponse response;
  for (const auto& topic : request.topics) {
    auto& t = response.responses.emplace_back();
    t.topic = topic.topic;
    for (const auto& want : topic.partitions) {
      auto& r = t.partitions.emplace_back();
      r.partition_index = want.partition;
      r.high_watermark = -1;
      r.error_code = ToWire(ErrorCode::NOT_LEADER_OR_FOLLOWER);
      ctx.RecordError(r.error_code);
    }
  }
  ctx.Respond(response);
}

}  // namespace

void HandleFetch(RequestContext ctx, FetchRequest request) {
  if (request.replica_id >= 0 && RecordFollowerProgress(*ctx.services, request)) {
    RefuseUnknownReplica(ctx, request);
    return;
  }
  Built built = BuildResponse(*ctx.services, request, ctx.version());
  const uint64_t min_bytes = static_cast<uint64_t>(std::max(request.min_bytes, 1));
  if (request.max_wait_ms <= 0 || built.has_error || built.bytes >= min_bytes) {
    SendBuilt(ctx, built);
    return;
  }
  auto waiting = std::make_shared<WaitingFetch>();
  const auto max_wait = std::chrono::milliseconds(request.max_wait_ms);
  TimerThread& timers = ctx.services->timers;
  waiting->ctx = std::move(ctx);
  waiting->request = std::move(request);
  {
    MutexLock lock(&waiting->mu);
    if (metrics::BrokerMetrics* m = waiting->ctx.services->metrics) {
      m->fetches_waiting().Increment();
    }
    waiting->ArmWaiters();
    waiting->timer_id = timers.Schedule(max_wait, [waiting] { waiting->OnTimeout(); });
  }
  // Data may have arrived between the first read and arming the waiters.
  waiting->OnDataMaybe();
}

}  // namespace sluice::api
