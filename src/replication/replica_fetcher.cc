#include "replication/replica_fetcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <vector>

#include "model/record_batch_header.h"
#include "protocol/error_code.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/offset_for_leader_epoch.h"
#include "rpc/connection.h"
#include "storage/log.h"

namespace sluice::replication {

namespace {

using protocol::ErrorCode;
using protocol::ToWire;

// A partition the leader refused is asked for again after this, doubled on
// each further refusal up to replica.fetch.backoff.ms: after a leader change
// the refusal usually lasts only until one side has applied its
// LeaderAndIsr, a few milliseconds.
constexpr std::chrono::milliseconds kFirstRetry{10};

// The versions this broker sends its peers: the newest each side has.
constexpr int16_t kFetchVersion = 12;
constexpr int16_t kOffsetForLeaderEpochVersion = 4;

std::string Name(const storage::TopicPartition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

// Where a follower's log must be cut so that it agrees with the leader's,
// from the leader's answer for the follower's newest epoch (KIP-279): the
// leader's end offset for that epoch, or, if the leader's history has only
// an older epoch, that epoch's end on both sides, whichever is lower.
int64_t TruncationOffset(cluster::Partition& p, int32_t asked_epoch, int32_t answered_epoch,
                         int64_t answered_end) {
  const int64_t leo = p.log_end_offset();
  if (answered_end < 0) {
    // The leader knows no epoch at or below ours: keep what is committed.
    return std::min(leo, p.high_watermark());
  }
  int64_t cut = std::min(answered_end, leo);
  if (answered_epoch >= 0 && answered_epoch < asked_epoch) {
    cut = std::min(cut, p.EndOffsetForEpoch(answered_epoch).second);
  }
  return std::max(cut, p.log_start_offset());
}

}  // namespace

ReplicaFetcher::ReplicaFetcher(LeaderEndpoint leader, FetcherOptions options)
    : leader_(std::move(leader)), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

ReplicaFetcher::~ReplicaFetcher() { Shutdown(); }

void ReplicaFetcher::Add(std::shared_ptr<cluster::Partition> partition) {
  MutexLock lock(&mu_);
  const storage::TopicPartition tp = partition->tp();
  Follower f;
  f.leader_epoch = partition->leader_epoch();
  f.partition = std::move(partition);
  auto it = followers_.find(tp);
  const bool changes_the_fetch =
      it == followers_.end() || it->second.leader_epoch != f.leader_epoch;
  followers_.insert_or_assign(tp, std::move(f));
  changed_.SignalAll();
  if (changes_the_fetch) ++changes_;
  if (changes_the_fetch && fetch_in_flight_ && signal_ && !cut_short_) {
    cut_short_ = true;
    signal_->Fire();
  }
}

void ReplicaFetcher::Remove(const storage::TopicPartition& tp) {
  MutexLock lock(&mu_);
  followers_.erase(tp);
}

size_t ReplicaFetcher::partition_count() const {
  MutexLock lock(&mu_);
  return followers_.size();
}

FetcherStats ReplicaFetcher::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void ReplicaFetcher::Stop() {
  MutexLock lock(&mu_);
  stop_ = true;
  changed_.SignalAll();
  if (signal_) signal_->Fire();
}

void ReplicaFetcher::Shutdown() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<rpc::ShutdownSignal> ReplicaFetcher::NewConnectionSignal() {
  auto signal = rpc::ShutdownSignal::Create();
  MutexLock lock(&mu_);
  if (stop_ || !signal.ok()) return nullptr;
  signal_ = std::move(signal).value();
  cut_short_ = false;
  return signal_;
}

void ReplicaFetcher::FetchStarts() {
  MutexLock lock(&mu_);
  fetch_in_flight_ = true;
}

bool ReplicaFetcher::FetchEndedCutShort() {
  MutexLock lock(&mu_);
  fetch_in_flight_ = false;
  return cut_short_;
}

bool ReplicaFetcher::stopping() const {
  MutexLock lock(&mu_);
  return stop_;
}

void ReplicaFetcher::Count(uint64_t FetcherStats::*field, uint64_t n) {
  MutexLock lock(&mu_);
  stats_.*field += n;
}

ReplicaFetcher::FollowerMap ReplicaFetcher::Snapshot() {
  MutexLock lock(&mu_);
  while (!stop_ && followers_.empty()) changed_.Wait(&mu_);
  return stop_ ? FollowerMap{} : followers_;
}

bool ReplicaFetcher::Backoff(std::chrono::milliseconds d) {
  MutexLock lock(&mu_);
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (!stop_ && changed_.WaitUntil(&mu_, deadline)) {
  }
  return !stop_;
}

void ReplicaFetcher::MarkReconciled(const storage::TopicPartition& tp, int32_t epoch) {
  MutexLock lock(&mu_);
  auto it = followers_.find(tp);
  if (it != followers_.end() && it->second.leader_epoch == epoch) {
    it->second.reconciled = true;
    it->second.refusals = 0;
  }
}

bool ReplicaFetcher::WaitForChange(Clock::time_point deadline) {
  MutexLock lock(&mu_);
  const uint64_t seen = changes_;
  while (!stop_ && changes_ == seen && changed_.WaitUntil(&mu_, deadline)) {
  }
  return !stop_;
}

ReplicaFetcher::Clock::time_point ReplicaFetcher::Refused(
    const std::vector<std::pair<storage::TopicPartition, int32_t>>& refused) {
  auto first = Clock::time_point::max();
  if (refused.empty()) return first;
  const auto now = Clock::now();
  MutexLock lock(&mu_);
  for (const auto& [tp, epoch] : refused) {
    auto it = followers_.find(tp);
    if (it == followers_.end() || it->second.leader_epoch != epoch) continue;  // Re-added.
    Follower& f = it->second;
    const auto delay = std::min<std::chrono::milliseconds>(
        options_.backoff, kFirstRetry * (int64_t{1} << std::min(f.refusals, 16)));
    ++f.refusals;
    f.retry_at = now + delay;
    first = std::min(first, f.retry_at);
  }
  return first;
}

void ReplicaFetcher::Answered(const std::vector<storage::TopicPartition>& answered) {
  MutexLock lock(&mu_);
  for (const storage::TopicPartition& tp : answered) {
    auto it = followers_.find(tp);
    if (it != followers_.end()) it->second.refusals = 0;
  }
}

void ReplicaFetcher::Run() {
  std::unique_ptr<rpc::Connection> conn;
  while (true) {
    FollowerMap followers = Snapshot();
    if (followers.empty()) return;  // stopping
    // Partitions refused lately wait their turn; with nothing else to
    // fetch, so does the thread.
    const auto now = Clock::now();
    auto next_retry = Clock::time_point::max();
    for (auto it = followers.begin(); it != followers.end();) {
      if (it->second.retry_at <= now) {
        ++it;
        continue;
      }
      next_retry = std::min(next_retry, it->second.retry_at);
      it = followers.erase(it);
    }
    if (followers.empty()) {
      if (!WaitForChange(next_retry)) return;
      continue;
    }
    if (!conn || conn->broken()) {
      conn.reset();
      rpc::ConnectionOptions co;
      co.client_id = "sluice-replica-fetcher-" + std::to_string(options_.local_id);
      co.connect_timeout = options_.socket_timeout;
      co.request_timeout = options_.socket_timeout + std::chrono::milliseconds(options_.max_wait_ms);
      co.shutdown = NewConnectionSignal();
      if (!co.shutdown) {
        if (stopping()) return;
        if (!Backoff(options_.backoff)) return;  // No eventfd: try again later.
        continue;
      }
      auto connected = rpc::Connection::Connect(leader_.host, leader_.port, co);
      if (!connected.ok()) {
        Count(&FetcherStats::connection_failures);
        spdlog::debug("replica fetcher to broker {} ({}:{}): {}", leader_.id, leader_.host,
                      leader_.port, connected.status().ToString());
        if (!Backoff(options_.backoff)) return;
        continue;
      }
      conn = std::move(connected).value();
    }

    // Step 1: reconcile partitions new to this leader epoch.
    protocol::OffsetForLeaderEpochRequest epochs_request;
    epochs_request.replica_id = options_.local_id;
    std::map<storage::TopicPartition, int32_t> asked;  // the follower's newest epoch
    for (auto& [tp, f] : followers) {
      if (f.reconciled) continue;
      std::optional<int32_t> newest = f.partition->LatestEpochInLog();
      if (!newest) {
        MarkReconciled(tp, f.leader_epoch);  // An empty history cannot diverge.
        f.reconciled = true;
        continue;
      }
      asked[tp] = *newest;
      auto& topic = epochs_request.topics.emplace_back();
      topic.topic = tp.topic;
      auto& part = topic.partitions.emplace_back();
      part.partition = tp.partition;
      part.current_leader_epoch = f.leader_epoch;
      part.leader_epoch = *newest;
    }
    if (!epochs_request.topics.empty()) {
      auto reply = conn->Call<protocol::OffsetForLeaderEpochRequest,
                              protocol::OffsetForLeaderEpochResponse>(epochs_request,
                                                                      kOffsetForLeaderEpochVersion);
      if (!reply.ok()) {
        Count(&FetcherStats::connection_failures);
        if (!Backoff(options_.backoff)) return;
        continue;
      }
      std::vector<std::pair<storage::TopicPartition, int32_t>> refused;
      for (const auto& topic : reply->body().topics) {
        for (const auto& r : topic.partitions) {
          const storage::TopicPartition tp{topic.topic, r.partition};
          auto f = followers.find(tp);
          if (f == followers.end() || asked.count(tp) == 0) continue;
          asked.erase(tp);
          if (r.error_code != ToWire(ErrorCode::NONE)) {
            spdlog::debug("{}: leader {} answered OffsetForLeaderEpoch with error {}", Name(tp),
                          leader_.id, r.error_code);
            refused.emplace_back(tp, f->second.leader_epoch);
            continue;
          }
          cluster::Partition& p = *f->second.partition;
          const int64_t cut = TruncationOffset(p, asked[tp], r.leader_epoch, r.end_offset);
          if (cut < p.log_end_offset()) {
            spdlog::info("{}: truncating from {} to {} to agree with leader {} (epoch {})",
                         Name(tp), p.log_end_offset(), cut, leader_.id, f->second.leader_epoch);
            Status s = p.TruncateTo(cut, f->second.leader_epoch);
            if (!s.ok()) {
              spdlog::warn("{}: truncation failed: {}", Name(tp), s.ToString());
              continue;
            }
            Count(&FetcherStats::truncations);
          }
          MarkReconciled(tp, f->second.leader_epoch);
          f->second.reconciled = true;
        }
      }
      // Not answered at all: as refused, so that it is not asked for in a
      // tight loop.
      for (const auto& [tp, newest] : asked) {
        refused.emplace_back(tp, followers.at(tp).leader_epoch);
      }
      next_retry = std::min(next_retry, Refused(refused));
    }

    // Step 2: fetch for the reconciled ones.
    protocol::FetchRequest request;
    request.replica_id = options_.local_id;
    // A long poll must not outlast the wait of a partition refused a moment
    // ago (the leader catching up on its LeaderAndIsr, usually).
    request.max_wait_ms = options_.max_wait_ms;
    if (next_retry != Clock::time_point::max()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
          next_retry - Clock::now());
      request.max_wait_ms = static_cast<int32_t>(
          std::clamp<int64_t>(until.count(), 0, options_.max_wait_ms));
    }
    request.min_bytes = options_.min_bytes;
    request.max_bytes = options_.response_max_bytes;
    std::map<std::string, size_t> topic_index;
    // Out-of-sync replicas the topic throttles wait while the quota is
    // exceeded; what is fetched for the others among them counts against it.
    const bool throttling = options_.quota && options_.throttled && options_.quota->bounded();
    const bool over_quota = throttling && options_.quota->Exceeded();
    std::set<storage::TopicPartition> throttled;
    uint64_t held_back = 0;
    for (auto& [tp, f] : followers) {
      if (!f.reconciled) continue;
      if (throttling && !f.caught_up && options_.throttled(tp)) {
        if (over_quota) {
          ++held_back;
          continue;
        }
        throttled.insert(tp);
      }
      auto [it, fresh] = topic_index.emplace(tp.topic, request.topics.size());
      if (fresh) request.topics.emplace_back().topic = tp.topic;
      auto& part = request.topics[it->second].partitions.emplace_back();
      part.partition = tp.partition;
      part.current_leader_epoch = f.leader_epoch;
      part.fetch_offset = f.partition->log_end_offset();
      part.last_fetched_epoch = f.partition->LatestEpochInLog().value_or(-1);
      part.log_start_offset = f.partition->log_start_offset();
      part.partition_max_bytes = options_.partition_max_bytes;
    }
    if (held_back > 0) options_.quota->CountHeldBack(held_back);
    if (request.topics.empty() && held_back > 0) {
      // Only throttled replicas to fetch: wait until the quota lets them.
      const auto wait = std::clamp<int64_t>(options_.quota->MillisUntilUnder(), 1,
                                            options_.backoff.count());
      if (!WaitForChange(std::min(next_retry, Clock::now() + std::chrono::milliseconds(wait)))) {
        return;
      }
      continue;
    }
    if (request.topics.empty()) continue;  // Every one refused: they wait their turn.
    FetchStarts();
    auto reply = conn->Call<protocol::FetchRequest, protocol::FetchResponse>(request, kFetchVersion);
    if (FetchEndedCutShort()) {
      // A partition came (or moved to a new epoch): fetch again at once, on
      // a new connection (the signal that cut this one stays fired). An
      // answer that made it is used all the same.
      if (stopping()) return;
      if (!reply.ok()) {
        conn.reset();
        continue;
      }
      conn.reset();
    }
    if (!reply.ok()) {
      Count(&FetcherStats::connection_failures);
      if (stopping()) return;
      spdlog::debug("replica fetch from broker {}: {}", leader_.id, reply.status().ToString());
      if (!Backoff(options_.backoff)) return;
      continue;
    }

    // Step 3: append, sync, then learn the leader's high watermark.
    std::vector<std::pair<storage::TopicPartition, int32_t>> refused;
    std::vector<storage::TopicPartition> answered;
    uint64_t appended_batches = 0;
    std::vector<std::pair<cluster::Partition*, int64_t>> to_sync;  // with the leader's HW
    std::vector<std::pair<storage::TopicPartition, bool>> caught_up;
    uint64_t throttled_bytes = 0;
    for (const auto& topic : reply->body().responses) {
      for (const auto& r : topic.partitions) {
        const storage::TopicPartition tp{topic.topic, r.partition_index};
        auto f = followers.find(tp);
        if (f == followers.end() || !f->second.reconciled) continue;
        cluster::Partition& p = *f->second.partition;
        if (r.error_code == ToWire(ErrorCode::OFFSET_OUT_OF_RANGE) &&
            p.log_end_offset() < r.log_start_offset) {
          // This replica was away while the leader's retention (or
          // DeleteRecords) removed everything up to past its log end: what
          // it has can never be continued. As Kafka's follower does, it
          // starts over, empty, at the leader's log start, and fetches on.
          spdlog::info("{}: log end {} is below leader {}'s log start {}: starting the log over there",
                       Name(tp), p.log_end_offset(), leader_.id, r.log_start_offset);
          Status cut = p.TruncateFullyAndStartAt(r.log_start_offset, f->second.leader_epoch);
          if (cut.ok()) {
            Count(&FetcherStats::truncations);
            if (f->second.refusals > 0) answered.push_back(tp);
            continue;
          }
          spdlog::warn("{}: starting the log over failed: {}", Name(tp), cut.ToString());
        }
        if (r.error_code != ToWire(ErrorCode::NONE)) {
          // NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH:
          // the controller's next LeaderAndIsr settles who leads; until
          // then the partition waits its turn (Refused), the others go on.
          // OFFSET_OUT_OF_RANGE above the leader's log end cannot follow a
          // reconciliation (step 1) unless the leader lost data (an unclean
          // election): it waits its turn too, until a new leader epoch
          // reconciles it again.
          spdlog::debug("{}: fetch from leader {} answered error {}", Name(tp), leader_.id,
                        r.error_code);
          refused.emplace_back(tp, f->second.leader_epoch);
          continue;
        }
        bool append_failed = false;  // this replica's storage refused a batch
        std::span<const uint8_t> bytes = r.records.is_null() ? std::span<const uint8_t>{}
                                                              : r.records.bytes();
        if (throttled.count(tp) > 0) throttled_bytes += bytes.size();
        bool stop = false;
        while (!stop && bytes.size() >= model::batch_layout::kHeaderSize) {
          auto h = model::ParseRecordBatchHeader(bytes);
          if (!h.ok() || h->size_bytes() > bytes.size()) break;  // a partial last batch
          std::span<const uint8_t> batch = bytes.first(h->size_bytes());
          if (h->base_offset + h->last_offset_delta < p.log_end_offset()) {
            bytes = bytes.subspan(batch.size());  // already have it
            continue;
          }
          if (!model::VerifyBatchCrc(batch)) {
            spdlog::warn("{}: batch at {} from leader {} fails its CRC; fetching again", Name(tp),
                         h->base_offset, leader_.id);
            break;
          }
          auto appended = p.AppendAsFollower(batch, f->second.leader_epoch);
          if (!appended.ok()) {
            if (appended.status().code() != StatusCode::kAborted) {
              spdlog::warn("{}: append of the leader's batch at {} failed: {}", Name(tp),
                           h->base_offset, appended.status().ToString());
              append_failed = true;
            }
            stop = true;
            continue;
          }
          ++appended_batches;
          bytes = bytes.subspan(batch.size());
        }
        // A local append error (a full disk, a failed log) does not clear by
        // asking again at once: the next fetch returns the same batch and
        // fails the same way. The partition waits its turn as if refused.
        if (append_failed) {
          refused.emplace_back(tp, f->second.leader_epoch);
        } else if (f->second.refusals > 0) {
          answered.push_back(tp);
        }
        to_sync.emplace_back(&p, r.high_watermark);
        caught_up.emplace_back(tp, p.log_end_offset() >= r.high_watermark);
      }
    }
    if (throttled_bytes > 0) options_.quota->Record(throttled_bytes);
    std::vector<storage::Log*> logs;
    for (auto& [p, hw] : to_sync) {
      if (p->log().flushed_offset() < p->log().log_end_offset()) logs.push_back(&p->log());
    }
    std::vector<Status> synced;
    const auto together = static_cast<size_t>(options_.sync_together_min_partitions);
    if (together > 0 && logs.size() >= together) {
      synced = storage::Log::FlushTogether(logs);
    } else {
      for (storage::Log* log : logs) synced.push_back(log->Flush());
    }
    for (size_t i = 0; i < synced.size(); ++i) {
      if (!synced[i].ok()) spdlog::error("sync of {} failed: {}", logs[i]->dir().string(), synced[i].ToString());
    }
    for (auto& [p, hw] : to_sync) p->SetLeaderHighWatermark(hw);
    {
      MutexLock lock(&mu_);
      ++stats_.rounds;
      stats_.batches_appended += appended_batches;
      for (const auto& [tp, yes] : caught_up) {
        auto it = followers_.find(tp);
        if (it != followers_.end()) it->second.caught_up = yes;
      }
    }
    Refused(refused);
    Answered(answered);
  }
}

}  // namespace sluice::replication
