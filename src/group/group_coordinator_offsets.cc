// The offsets and administration half of GroupCoordinator: OffsetCommit,
// OffsetFetch, OffsetDelete, DescribeGroups, ListGroups, DeleteGroups, the
// offsets retention, and storing / loading groups in __consumer_offsets.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "group/consumer_protocol.h"
#include "group/group_coordinator.h"
#include "base/mutex.h"

namespace sluice::group {
namespace {

using protocol::ErrorCode;

// The answer to a write to __consumer_offsets that failed: in a cluster,
// NotLeader means another broker leads the group's partition now.
ErrorCode WriteError(const Status& s) {
  return s.code() == StatusCode::kNotLeader ? ErrorCode::NOT_COORDINATOR
                                            : ErrorCode::COORDINATOR_NOT_AVAILABLE;
}

// Topics any member of a consumer group subscribes to (empty if unknown).
std::set<std::string> SubscribedTopicsOf(const Group& g) {
  std::set<std::string> topics;
  if (g.protocol_type() != std::string(kConsumerProtocolType) || !g.protocol_name()) {
    return topics;
  }
  for (const std::string& id : g.member_order()) {
    const Member* m = g.Find(id);
    if (const ByteVector* md = m->MetadataFor(*g.protocol_name())) {
      if (auto t = SubscribedTopics(*md)) topics.insert(t->begin(), t->end());
    }
  }
  return topics;
}

}  // namespace

void GroupCoordinator::CommitOffsets(OffsetCommitParams params,
                                     std::function<void(std::vector<ErrorCode>)> done) {
  std::vector<ErrorCode> errors(params.partitions.size(), ErrorCode::NONE);
  Deferred out;
  {
    MutexLock lock(&mu_);
    ErrorCode group_error = ErrorCode::NONE;
    const ErrorCode coordinator_error = CoordinatorError(params.group_id);
    Group* g = coordinator_error != ErrorCode::NONE ? nullptr : FindGroup(params.group_id);
    if (coordinator_error != ErrorCode::NONE) {
      group_error = coordinator_error;
    } else if (params.group_id.empty()) {
      group_error = ErrorCode::INVALID_GROUP_ID;
    } else if (g == nullptr) {
      // Only a consumer that assigns itself partitions may commit for a
      // group nobody has joined: it creates an empty group.
      if (params.generation_id < 0) {
        g = &GetOrCreateGroup(params.group_id);
      } else {
        group_error = ErrorCode::ILLEGAL_GENERATION;
      }
    } else if (g->Is(GroupState::kDead)) {
      group_error = ErrorCode::COORDINATOR_NOT_AVAILABLE;
    } else if (ErrorCode e = ValidateStaticMember(*g, params.member_id, params.group_instance_id);
               e != ErrorCode::NONE) {
      group_error = e;
    } else if (params.generation_id < 0 && g->Is(GroupState::kEmpty)) {
      // A standalone commit into a group without members.
    } else if (g->Is(GroupState::kCompletingRebalance)) {
      group_error = ErrorCode::REBALANCE_IN_PROGRESS;
    } else if (g->Find(params.member_id) == nullptr) {
      group_error = ErrorCode::UNKNOWN_MEMBER_ID;
    } else if (params.generation_id != g->generation()) {
      group_error = ErrorCode::ILLEGAL_GENERATION;
    } else {
      TouchSession(*g, *g->Find(params.member_id));
    }

    if (group_error != ErrorCode::NONE) {
      std::fill(errors.begin(), errors.end(), group_error);
    } else {
      const int64_t now = WallNow();
      std::vector<KeyValue> records;
      std::vector<size_t> written;  // Index into params.partitions of each record.
      for (size_t i = 0; i < params.partitions.size(); ++i) {
        const auto& p = params.partitions[i];
        if (p.metadata && p.metadata->size() > static_cast<size_t>(options_.offset_metadata_max_bytes)) {
          errors[i] = ErrorCode::OFFSET_METADATA_TOO_LARGE;
          continue;
        }
        CommittedOffset value{p.offset, p.leader_epoch, p.metadata.value_or(""), now};
        records.push_back({EncodeKey(OffsetKey{params.group_id, p.topic, p.partition}),
                           EncodeValue(value)});
        written.push_back(i);
      }
      if (!records.empty()) {
        auto write = log_.Append(params.group_id, records, now);
        if (!write.ok()) {
          spdlog::error("group {}: offset commit not stored: {}", params.group_id,
                        write.status().ToString());
          for (size_t i : written) errors[i] = WriteError(write.status());
        } else {
          // Answered once durable; only then is the cache updated, in log
          // order (a later commit that became durable first wins).
          out.push_back([this, w = *write, params = std::move(params), written, errors, now,
                         done = std::move(done)]() mutable {
            log_.WhenDurable(w, [this, w, params = std::move(params), written, errors, now,
                                 done = std::move(done)](Status s) mutable {
              if (s.ok()) {
                std::vector<size_t> updated;
                {
                  MutexLock cache_lock(&mu_);
                  if (Group* group = closed_ ? nullptr : FindGroup(params.group_id)) {
                    for (size_t k = 0; k < written.size(); ++k) {
                      const auto& p = params.partitions[written[k]];
                      OffsetEntry& entry = group->offsets()[PartitionKey{p.topic, p.partition}];
                      const int64_t log_offset = w.base_offset + static_cast<int64_t>(k);
                      if (entry.log_offset < log_offset) {
                        entry.value = {p.offset, p.leader_epoch, p.metadata.value_or(""), now};
                        entry.log_offset = log_offset;
                        updated.push_back(written[k]);
                      }
                    }
                  }
                }
                if (observer_ != nullptr) {
                  for (size_t i : updated) {
                    const auto& p = params.partitions[i];
                    observer_->OnOffsetCommitted(params.group_id, p.topic, p.partition, p.offset);
                  }
                }
              } else {
                for (size_t i : written) errors[i] = WriteError(s);
              }
              done(std::move(errors));
            });
          });
          done = nullptr;
        }
      }
    }
    if (done) out.push_back([done = std::move(done), errors] { done(errors); });
  }
  Run(out);
}

std::pair<ErrorCode, std::vector<FetchedOffset>> GroupCoordinator::FetchOffsets(
    const std::string& group_id, const std::optional<std::vector<PartitionKey>>& partitions) {
  MutexLock lock(&mu_);
  if (ErrorCode e = CoordinatorError(group_id); e != ErrorCode::NONE) return {e, {}};
  std::vector<FetchedOffset> out;
  Group* g = FindGroup(group_id);
  if (!partitions) {
    if (g == nullptr) return {ErrorCode::NONE, {}};
    for (const auto& [key, entry] : g->offsets()) {
      out.push_back({key.topic, key.partition, entry.value.offset, entry.value.leader_epoch,
                     entry.value.metadata});
    }
    return {ErrorCode::NONE, std::move(out)};
  }
  for (const PartitionKey& key : *partitions) {
    FetchedOffset f{key.topic, key.partition, -1, -1, ""};
    if (g != nullptr) {
      auto it = g->offsets().find(key);
      if (it != g->offsets().end()) {
        f.offset = it->second.value.offset;
        f.leader_epoch = it->second.value.leader_epoch;
        f.metadata = it->second.value.metadata;
      }
    }
    out.push_back(std::move(f));
  }
  return {ErrorCode::NONE, std::move(out)};
}

void GroupCoordinator::DeleteOffsets(
    const std::string& group_id, std::vector<PartitionKey> partitions,
    std::function<void(ErrorCode, std::vector<PartitionError>)> done) {
  std::vector<PartitionError> results;
  ErrorCode group_error = ErrorCode::NONE;
  Deferred out;
  {
    MutexLock lock(&mu_);
    const ErrorCode coordinator_error = CoordinatorError(group_id);
    Group* g = coordinator_error != ErrorCode::NONE ? nullptr : FindGroup(group_id);
    if (coordinator_error != ErrorCode::NONE) {
      group_error = coordinator_error;
    } else if (group_id.empty()) {
      group_error = ErrorCode::INVALID_GROUP_ID;
    } else if (g == nullptr || g->Is(GroupState::kDead)) {
      group_error = ErrorCode::GROUP_ID_NOT_FOUND;
    } else if (!g->Is(GroupState::kEmpty) &&
               g->protocol_type() != std::string(kConsumerProtocolType)) {
      group_error = ErrorCode::NON_EMPTY_GROUP;
    }
    if (group_error == ErrorCode::NONE) {
      const std::set<std::string> subscribed = SubscribedTopicsOf(*g);
      std::vector<KeyValue> tombstones;
      std::vector<PartitionKey> removed;
      for (const PartitionKey& key : partitions) {
        PartitionError r{key.topic, key.partition, ErrorCode::NONE};
        if (subscribed.count(key.topic) > 0) {
          r.error = ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC;
        } else if (g->offsets().erase(key) > 0) {
          tombstones.push_back({EncodeKey(OffsetKey{group_id, key.topic, key.partition}), {}});
          removed.push_back(key);
        }
        results.push_back(std::move(r));
      }
      NotifyRemoved(group_id, std::move(removed), out);
      if (!tombstones.empty()) {
        auto write = log_.Append(group_id, tombstones, WallNow());
        if (!write.ok()) {
          group_error = ErrorCode::COORDINATOR_NOT_AVAILABLE;
        } else {
          out.push_back([this, w = *write, results, done = std::move(done)]() mutable {
            log_.WhenDurable(w, [results, done = std::move(done)](Status s) mutable {
              done(s.ok() ? ErrorCode::NONE : ErrorCode::COORDINATOR_NOT_AVAILABLE,
                   std::move(results));
            });
          });
          done = nullptr;
        }
      }
    }
    if (done) {
      out.push_back([done = std::move(done), group_error, results] { done(group_error, results); });
    }
  }
  Run(out);
}

GroupDescription GroupCoordinator::DescribeGroup(const std::string& group_id) {
  MutexLock lock(&mu_);
  GroupDescription d;
  d.group_id = group_id;
  if (ErrorCode e = CoordinatorError(group_id); e != ErrorCode::NONE) {
    d.error = e;
    return d;
  }
  Group* g = FindGroup(group_id);
  if (g == nullptr) return d;  // Kafka describes an unknown group as Dead, without error.
  d.state = g->state();
  d.protocol_type = g->protocol_type().value_or("");
  const bool stable = g->Is(GroupState::kStable);
  if (stable) d.protocol = g->protocol_name().value_or("");
  for (const std::string& id : g->member_order()) {
    const Member* m = g->Find(id);
    GroupDescription::MemberInfo info{m->member_id, m->group_instance_id, m->client_id,
                                      m->client_host, {}, {}};
    if (stable) {
      if (const ByteVector* md = m->MetadataFor(d.protocol)) info.metadata = *md;
      info.assignment = m->assignment;
    }
    d.members.push_back(std::move(info));
  }
  return d;
}

std::vector<GroupListing> GroupCoordinator::ListGroups(const std::vector<GroupState>& states) {
  MutexLock lock(&mu_);
  std::vector<GroupListing> out;
  if (closed_) return out;
  for (const auto& [id, g] : groups_) {
    if (g->Is(GroupState::kDead)) continue;
    if (!states.empty() && std::find(states.begin(), states.end(), g->state()) == states.end()) {
      continue;
    }
    out.push_back({id, g->protocol_type().value_or(""), g->state()});
  }
  return out;
}

void GroupCoordinator::DeleteGroups(std::vector<std::string> group_ids,
                                    std::function<void(std::vector<ErrorCode>)> done) {
  struct Shared {
    Mutex mu;
    std::vector<ErrorCode> errors;
    size_t waiting = 0;
    std::function<void(std::vector<ErrorCode>)> done;
  };
  auto shared = std::make_shared<Shared>();
  shared->errors.assign(group_ids.size(), ErrorCode::NONE);
  shared->done = std::move(done);
  std::vector<std::pair<size_t, GroupLogWrite>> writes;
  Deferred notes;
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < group_ids.size(); ++i) {
      const std::string& id = group_ids[i];
      const ErrorCode coordinator_error = CoordinatorError(id);
      Group* g = coordinator_error != ErrorCode::NONE ? nullptr : FindGroup(id);
      ErrorCode& error = shared->errors[i];
      if (coordinator_error != ErrorCode::NONE) {
        error = coordinator_error;
      } else if (id.empty()) {
        error = ErrorCode::INVALID_GROUP_ID;
      } else if (g == nullptr || g->Is(GroupState::kDead)) {
        error = ErrorCode::GROUP_ID_NOT_FOUND;
      } else if (!g->Is(GroupState::kEmpty)) {
        error = ErrorCode::NON_EMPTY_GROUP;
      } else {
        // Tombstones for every offset and for the group itself.
        std::vector<KeyValue> tombstones;
        for (const auto& [key, entry] : g->offsets()) {
          tombstones.push_back({EncodeKey(OffsetKey{id, key.topic, key.partition}), {}});
        }
        tombstones.push_back({EncodeKey(GroupKey{id}), {}});
        auto write = log_.Append(id, tombstones, WallNow());
        if (!write.ok()) {
          error = ErrorCode::COORDINATOR_NOT_AVAILABLE;
          continue;
        }
        std::vector<PartitionKey> removed;
        for (const auto& [key, entry] : g->offsets()) removed.push_back(key);
        NotifyRemoved(id, std::move(removed), notes);
        g->TransitionTo(GroupState::kDead, WallNow());
        groups_.erase(id);
        spdlog::info("group {}: deleted", id);
        writes.emplace_back(i, *write);
      }
    }
    shared->waiting = writes.size();
  }
  Run(notes);
  if (writes.empty()) {
    shared->done(shared->errors);
    return;
  }
  for (auto& [index, write] : writes) {
    log_.WhenDurable(write, [shared, index = index](Status s) {
      MutexLock lock(&shared->mu);
      if (!s.ok()) shared->errors[index] = ErrorCode::COORDINATOR_NOT_AVAILABLE;
      if (--shared->waiting > 0) return;
      auto errors = shared->errors;
      lock.Unlock();
      shared->done(std::move(errors));
    });
  }
}

std::vector<CommittedOffsetInfo> GroupCoordinator::CommittedOffsets() {
  MutexLock lock(&mu_);
  std::vector<CommittedOffsetInfo> out;
  for (const auto& [id, g] : groups_) {
    for (const auto& [key, entry] : g->offsets()) {
      out.push_back({id, key.topic, key.partition, entry.value.offset});
    }
  }
  return out;
}

void GroupCoordinator::ExpireOffsets(int64_t now_ms) {
  std::vector<GroupLogWrite> writes;
  Deferred notes;
  {
    MutexLock lock(&mu_);
    if (closed_) return;
    std::vector<std::string> dead;
    for (auto& [id, g] : groups_) {
      // KIP-211: offsets of an empty group expire counting from when it
      // became empty; a live consumer group's offsets only for topics no
      // member subscribes to any more; a group without a protocol (only
      // standalone commits) by each commit's own time.
      const bool empty = g->Is(GroupState::kEmpty);
      if (!empty && !g->Is(GroupState::kStable)) continue;
      const bool standalone = !g->protocol_type() || g->protocol_type()->empty();
      const std::set<std::string> subscribed = empty ? std::set<std::string>{} : SubscribedTopicsOf(*g);
      if (!empty && g->protocol_type() != std::string(kConsumerProtocolType)) continue;
      std::vector<KeyValue> tombstones;
      std::vector<PartitionKey> expired;
      for (auto it = g->offsets().begin(); it != g->offsets().end();) {
        const int64_t base = (empty && !standalone) ? g->state_timestamp_ms()
                                                    : it->second.value.commit_timestamp_ms;
        if (subscribed.count(it->first.topic) == 0 &&
            base + options_.offsets_retention_ms <= now_ms) {
          tombstones.push_back(
              {EncodeKey(OffsetKey{id, it->first.topic, it->first.partition}), {}});
          expired.push_back(it->first);
          it = g->offsets().erase(it);
        } else {
          ++it;
        }
      }
      NotifyRemoved(id, std::move(expired), notes);
      if (empty && g->offsets().empty() && g->pending_members().empty()) {
        tombstones.push_back({EncodeKey(GroupKey{id}), {}});
        dead.push_back(id);
      }
      if (tombstones.empty()) continue;
      auto write = log_.Append(id, tombstones, now_ms);
      if (write.ok()) {
        writes.push_back(*write);
        spdlog::info("group {}: expired {} committed offsets", id, tombstones.size());
      }
    }
    for (const std::string& id : dead) groups_.erase(id);
  }
  Run(notes);
  for (const GroupLogWrite& w : writes) log_.WhenDurable(w, [](Status) {});
}

void GroupCoordinator::ScheduleRetentionCheck() {
  timers_.Schedule(std::chrono::milliseconds(options_.offsets_retention_check_interval_ms),
                   [this] {
                     {
                       MutexLock lock(&mu_);
                       if (closed_) return;
                     }
                     ExpireOffsets(WallNow());
                     ScheduleRetentionCheck();
                   });
}

void GroupCoordinator::StoreGroup(Group& g, std::function<void(Status)> done, Deferred& out) {
  std::vector<KeyValue> records;
  records.push_back({EncodeKey(GroupKey{g.id()}), EncodeValue(g.ToStored())});
  auto write = log_.Append(g.id(), records, WallNow());
  if (!write.ok()) {
    out.push_back([done = std::move(done), s = write.status()] { done(s); });
    return;
  }
  out.push_back([this, w = *write, done = std::move(done)]() mutable {
    log_.WhenDurable(w, std::move(done));
  });
}

Status GroupCoordinator::LoadRecord(int64_t offset, std::span<const uint8_t> key,
                                    std::optional<std::span<const uint8_t>> value,
                                    std::map<std::string, std::optional<StoredGroup>>& stored) {
  auto decoded = DecodeKey(key);
  if (!decoded.ok()) {
    // A record this version does not know: skip it, as Kafka does.
    spdlog::warn("{} offset {}: skipping record: {}", kOffsetsTopic, offset,
                 decoded.status().ToString());
    return Status::Ok();
  }
  if (auto* k = std::get_if<OffsetKey>(&*decoded)) {
    if (!value) {
      if (Group* g = FindGroup(k->group)) g->offsets().erase(PartitionKey{k->topic, k->partition});
      return Status::Ok();
    }
    auto v = DecodeOffsetValue(*value);
    if (!v.ok()) return v.status();
    Group& g = GetOrCreateGroup(k->group);
    g.offsets()[PartitionKey{k->topic, k->partition}] = OffsetEntry{*v, offset};
    return Status::Ok();
  }
  const auto& k = std::get<GroupKey>(*decoded);
  if (!value) {
    stored[k.group] = std::nullopt;
    if (Group* g = FindGroup(k.group)) {
      if (g->offsets().empty()) groups_.erase(k.group);
    }
    return Status::Ok();
  }
  auto v = DecodeGroupValue(*value);
  if (!v.ok()) return v.status();
  stored[k.group] = std::move(*v);
  return Status::Ok();
}

size_t GroupCoordinator::InstallStoredGroups(
    std::map<std::string, std::optional<StoredGroup>>& stored) {
  const int64_t now = WallNow();
  size_t members = 0;
  for (auto& [id, group] : stored) {
    if (!group) continue;
    Group& g = GetOrCreateGroup(id);
    g.LoadFrom(*group, now);
    for (const std::string& member_id : g.member_order()) {
      // Loaded members must heartbeat within their session, or they go.
      TouchSession(g, *g.Find(member_id));
      ++members;
    }
  }
  return members;
}

Status GroupCoordinator::Start() {
  MutexLock lock(&mu_);
  if (log_.in_cluster()) {
    // Groups come with the leadership of their partitions (OnLeadership).
    ScheduleRetentionCheck();
    return Status::Ok();
  }
  std::map<std::string, std::optional<StoredGroup>> stored;
  Status s = log_.Replay([&](int64_t offset, std::span<const uint8_t> key,
                             std::optional<std::span<const uint8_t>> value) {
    mu_.AssertHeld();  // Replay calls back synchronously, inside this lock.
    return LoadRecord(offset, key, value, stored);
  });
  if (!s.ok()) return s;
  const size_t members = InstallStoredGroups(stored);
  spdlog::info("loaded {} groups ({} members) from {}", groups_.size(), members, kOffsetsTopic);
  ScheduleRetentionCheck();
  if (observer_ != nullptr) {
    // Called under the lock only here: nothing else runs before Start ends.
    for (const auto& [id, g] : groups_) {
      for (const auto& [key, entry] : g->offsets()) {
        observer_->OnOffsetCommitted(id, key.topic, key.partition, entry.value.offset);
      }
    }
  }
  return Status::Ok();
}

void GroupCoordinator::OnLeadership(int32_t index, bool is_leader) {
  Deferred out;
  {
    MutexLock lock(&mu_);
    if (closed_) return;
    // Still the leader (a new leader epoch after an ISR change): what is
    // loaded is current, since no other broker led in between.
    if (is_leader && led_partitions_.count(index) > 0) return;
    // Otherwise what this broker held of the partition is stale: a new
    // leadership starts from the log, which another leader may have
    // extended meanwhile.
    UnloadPartitionLocked(index, out);
    if (is_leader) led_partitions_[index] = false;  // loading
  }
  Run(out);
  if (!is_leader) {
    spdlog::info("{}-{}: its groups unloaded (not the leader)", kOffsetsTopic, index);
    return;
  }
  // Read without the lock, so that other groups are served meanwhile; this
  // partition's groups answer COORDINATOR_LOAD_IN_PROGRESS until it ends.
  struct Record {
    int64_t offset;
    std::vector<uint8_t> key;
    std::optional<std::vector<uint8_t>> value;
  };
  std::vector<Record> records;
  Status s = log_.ReplayPartition(index, [&](int64_t offset, std::span<const uint8_t> key,
                                             std::optional<std::span<const uint8_t>> value) {
    Record& r = records.emplace_back();
    r.offset = offset;
    r.key.assign(key.begin(), key.end());
    if (value) r.value.emplace(value->begin(), value->end());
    return Status::Ok();
  });
  {
    MutexLock lock(&mu_);
    auto it = led_partitions_.find(index);
    if (closed_ || it == led_partitions_.end()) return;
    if (!s.ok()) {
      spdlog::error("{}-{}: loading its groups failed: {}", kOffsetsTopic, index, s.ToString());
      led_partitions_.erase(it);  // NOT_COORDINATOR rather than a half-loaded group
      return;
    }
    std::map<std::string, std::optional<StoredGroup>> stored;
    for (const Record& r : records) {
      std::optional<std::span<const uint8_t>> value;
      if (r.value) value = std::span<const uint8_t>(*r.value);
      s = LoadRecord(r.offset, r.key, value, stored);
      if (!s.ok()) break;
    }
    if (!s.ok()) {
      spdlog::error("{}-{}: loading its groups failed: {}", kOffsetsTopic, index, s.ToString());
      UnloadPartitionLocked(index, out);
      return;
    }
    const size_t members = InstallStoredGroups(stored);
    it->second = true;
    size_t loaded = 0;
    const int32_t count = log_.partition_count();
    for (const auto& [id, g] : groups_) {
      if (OffsetsPartitionFor(id, count) != index) continue;
      ++loaded;
      if (observer_ == nullptr) continue;
      for (const auto& [key, entry] : g->offsets()) {
        out.push_back([this, id = id, key = key, offset = entry.value.offset] {
          observer_->OnOffsetCommitted(id, key.topic, key.partition, offset);
        });
      }
    }
    spdlog::info("{}-{}: loaded {} groups ({} members) as its leader", kOffsetsTopic, index,
                 loaded, members);
  }
  Run(out);
}

void GroupCoordinator::NotifyRemoved(const std::string& group_id, std::vector<PartitionKey> keys,
                                     Deferred& out) {
  if (observer_ == nullptr || keys.empty()) return;
  out.push_back([this, group_id, keys = std::move(keys)] {
    for (const PartitionKey& k : keys) observer_->OnOffsetRemoved(group_id, k.topic, k.partition);
  });
}

}  // namespace sluice::group
