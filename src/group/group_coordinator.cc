// The membership half of GroupCoordinator: join, sync, heartbeat, leave,
// rebalances and session expiry. Offsets, administration and persistence
// are in group_coordinator_offsets.cc.
#include "group/group_coordinator.h"
#include "base/mutex.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "group/offsets_record.h"

namespace sluice::group {
namespace {

using protocol::ErrorCode;

// Kafka's member ids: "<client id or instance id>-<random UUID>".
std::string NewMemberId(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = rng();
  const uint64_t lo = rng();
  return fmt::format("{}-{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", prefix, hi >> 32,
                     (hi >> 16) & 0xffff, hi & 0xfff, ((lo >> 48) & 0x3fff) | 0x8000,
                     lo & 0xffffffffffffULL);
}

JoinGroupResult JoinError(ErrorCode error, std::string member_id) {
  JoinGroupResult r;
  r.error = error;
  r.member_id = std::move(member_id);
  return r;
}

// Queues `error` as the answer to the JoinGroup (SyncGroup) `m` waits on,
// if any, and clears it.
void FailWaitingJoin(Member& m, ErrorCode error, std::vector<std::function<void()>>& out) {
  if (!m.awaiting_join) return;
  out.push_back([cb = std::move(m.awaiting_join), r = JoinError(error, m.member_id)] { cb(r); });
  m.awaiting_join = nullptr;
}

void FailWaitingSync(Member& m, ErrorCode error, std::vector<std::function<void()>>& out) {
  if (!m.awaiting_sync) return;
  SyncGroupResult r;
  r.error = error;
  out.push_back([cb = std::move(m.awaiting_sync), r] { cb(r); });
  m.awaiting_sync = nullptr;
}

}  // namespace

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CoordinatorOptions CoordinatorOptions::FromConfig(const config::BrokerConfig& config) {
  CoordinatorOptions o;
  o.min_session_timeout_ms = config.GetInt("group.min.session.timeout.ms");
  o.max_session_timeout_ms = config.GetInt("group.max.session.timeout.ms");
  o.initial_rebalance_delay_ms = config.GetInt("group.initial.rebalance.delay.ms");
  o.max_group_size = config.GetInt("group.max.size");
  o.offset_metadata_max_bytes = config.GetInt("offset.metadata.max.bytes");
  o.offsets_retention_ms = int64_t{config.GetInt("offsets.retention.minutes")} * 60 * 1000;
  o.offsets_retention_check_interval_ms = config.GetLong("offsets.retention.check.interval.ms");
  return o;
}

namespace {

CoordinatorOptions WithClock(CoordinatorOptions o) {
  if (!o.clock) o.clock = WallNowMs;
  return o;
}

}  // namespace

GroupCoordinator::GroupCoordinator(CoordinatorOptions options, GroupLog& log, Timers& timers)
    : options_(WithClock(std::move(options))), log_(log), timers_(timers) {}

GroupCoordinator::~GroupCoordinator() { Shutdown(); }

void GroupCoordinator::Run(Deferred& out) {
  for (auto& fn : out) fn();
  out.clear();
}

Status GroupCoordinator::EnsureReady() { return log_.EnsureTopic(); }

Group* GroupCoordinator::FindGroup(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

ErrorCode GroupCoordinator::CoordinatorError(const std::string& group_id) const {
  if (closed_) return ErrorCode::NOT_COORDINATOR;
  if (!log_.in_cluster()) return ErrorCode::NONE;
  auto it = led_partitions_.find(OffsetsPartitionFor(group_id, log_.partition_count()));
  if (it == led_partitions_.end()) return ErrorCode::NOT_COORDINATOR;
  return it->second ? ErrorCode::NONE : ErrorCode::COORDINATOR_LOAD_IN_PROGRESS;
}

bool GroupCoordinator::Serves(const std::string& group_id) {
  MutexLock lock(&mu_);
  return CoordinatorError(group_id) == ErrorCode::NONE;
}

Group& GroupCoordinator::GetOrCreateGroup(const std::string& group_id) {
  auto& slot = groups_[group_id];
  if (!slot) {
    slot = std::make_unique<Group>(group_id, WallNow());
    slot->SeedRebalanceEpoch(rebalance_epoch_floor_);
  }
  return *slot;
}

void GroupCoordinator::UnloadPartitionLocked(int32_t index, Deferred& out) {
  led_partitions_.erase(index);
  const int32_t count = log_.partition_count();
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (OffsetsPartitionFor(it->first, count) != index) {
      ++it;
      continue;
    }
    Group& g = *it->second;
    rebalance_epoch_floor_ = std::max(rebalance_epoch_floor_, g.rebalance_epoch() + 1);
    for (const std::string& member_id : g.member_order()) {
      Member* m = g.Find(member_id);
      FailWaitingJoin(*m, ErrorCode::NOT_COORDINATOR, out);
      FailWaitingSync(*m, ErrorCode::NOT_COORDINATOR, out);
    }
    std::vector<PartitionKey> keys;
    for (const auto& [key, entry] : g.offsets()) keys.push_back(key);
    NotifyRemoved(it->first, std::move(keys), out);
    it = groups_.erase(it);
  }
}

void GroupCoordinator::Shutdown() {
  Deferred out;
  {
    MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    for (auto& [id, g] : groups_) {
      for (const std::string& member_id : g->member_order()) {
        Member* m = g->Find(member_id);
        FailWaitingJoin(*m, ErrorCode::NOT_COORDINATOR, out);
        FailWaitingSync(*m, ErrorCode::NOT_COORDINATOR, out);
      }
    }
  }
  Run(out);
}

ErrorCode GroupCoordinator::ValidateStaticMember(
    Group& g, const std::string& member_id,
    const std::optional<std::string>& instance_id) const {
  if (!instance_id) return ErrorCode::NONE;
  auto registered = g.MemberOfInstance(*instance_id);
  if (registered && *registered != member_id) return ErrorCode::FENCED_INSTANCE_ID;
  return ErrorCode::NONE;
}

void GroupCoordinator::JoinGroup(JoinParams params, JoinCallback done) {
  Deferred out;
  {
    MutexLock lock(&mu_);
    auto fail = [&](ErrorCode error) {
      out.push_back([cb = std::move(done), r = JoinError(error, params.member_id)] { cb(r); });
    };
    if (ErrorCode e = CoordinatorError(params.group_id); e != ErrorCode::NONE) {
      fail(e);
    } else if (params.group_id.empty()) {
      fail(ErrorCode::INVALID_GROUP_ID);
    } else if (params.session_timeout_ms < options_.min_session_timeout_ms ||
               params.session_timeout_ms > options_.max_session_timeout_ms) {
      fail(ErrorCode::INVALID_SESSION_TIMEOUT);
    } else {
      Group* existing = FindGroup(params.group_id);
      const bool unknown_member = params.member_id.empty();
      if (existing == nullptr && !unknown_member) {
        fail(ErrorCode::UNKNOWN_MEMBER_ID);
      } else {
        Group& g = existing != nullptr ? *existing : GetOrCreateGroup(params.group_id);
        const bool already_member =
            (!unknown_member && g.Find(params.member_id) != nullptr) ||
            (params.group_instance_id && g.MemberOfInstance(*params.group_instance_id));
        if (!already_member && g.size() + g.pending_members().size() >=
                                   static_cast<size_t>(options_.max_group_size)) {
          fail(ErrorCode::GROUP_MAX_SIZE_REACHED);
        } else if (unknown_member) {
          JoinUnknownMember(g, params, done, out);
        } else {
          JoinKnownMember(g, params, done, out);
        }
      }
    }
  }
  Run(out);
}

void GroupCoordinator::JoinUnknownMember(Group& g, JoinParams& params, JoinCallback& done,
                                         Deferred& out) {
  auto fail = [&](ErrorCode error) {
    out.push_back([cb = std::move(done), r = JoinError(error, "")] { cb(r); });
  };
  if (g.Is(GroupState::kDead)) return fail(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  if (!g.SupportsProtocols(params.protocol_type, params.protocols)) {
    return fail(ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
  }
  const std::string new_id =
      NewMemberId(params.group_instance_id ? *params.group_instance_id : params.client_id);

  if (params.group_instance_id) {
    auto old_id = g.MemberOfInstance(*params.group_instance_id);
    if (!old_id) return AddMemberAndRebalance(g, params, new_id, std::move(done), out);
    // A static member came back (a restart): it takes over its old place
    // under a new id; whatever the old incarnation still waits for is fenced.
    Member* old = g.Find(*old_id);
    FailWaitingJoin(*old, ErrorCode::FENCED_INSTANCE_ID, out);
    FailWaitingSync(*old, ErrorCode::FENCED_INSTANCE_ID, out);
    const bool protocols_changed = old->protocols != params.protocols;
    const std::string old_leader = g.leader().value_or("");
    g.ReplaceStaticMember(*old_id, new_id);
    Member& m = *g.Find(new_id);
    m.client_id = params.client_id;
    m.client_host = params.client_host;
    m.session_timeout_ms = params.session_timeout_ms;
    m.rebalance_timeout_ms = params.rebalance_timeout_ms;
    m.session_timer_armed = false;  // The armed timer knows the old id.
    TouchSession(g, m);
    spdlog::info("group {}: static member {} rejoined as {}", g.id(), *params.group_instance_id,
                 new_id);
    if (g.Is(GroupState::kStable) && !protocols_changed) {
      // No rebalance: it gets its old assignment through SyncGroup. The old
      // leader id is returned so that a restarted leader does not assign.
      JoinGroupResult r = CurrentJoinResult(g, new_id);
      r.leader_id = old_leader;
      r.members.clear();
      out.push_back([cb = std::move(done), r] { cb(r); });
      return;
    }
    return UpdateMemberAndRebalance(g, m, params, std::move(done), out);
  }

  if (params.require_known_member_id) {
    // KIP-394: the member learns its id first and joins with it, so a
    // client that retries a join does not leave a defunct member behind.
    g.pending_members().insert(new_id);
    ArmPendingMemberTimer(g.id(), new_id, params.session_timeout_ms);
    out.push_back([cb = std::move(done), r = JoinError(ErrorCode::MEMBER_ID_REQUIRED, new_id)] {
      cb(r);
    });
    return;
  }
  AddMemberAndRebalance(g, params, new_id, std::move(done), out);
}

void GroupCoordinator::JoinKnownMember(Group& g, JoinParams& params, JoinCallback& done,
                                       Deferred& out) {
  auto fail = [&](ErrorCode error) {
    out.push_back([cb = std::move(done), r = JoinError(error, params.member_id)] { cb(r); });
  };
  if (g.Is(GroupState::kDead)) return fail(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  if (!g.SupportsProtocols(params.protocol_type, params.protocols)) {
    return fail(ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
  }
  if (g.pending_members().erase(params.member_id) > 0) {
    return AddMemberAndRebalance(g, params, params.member_id, std::move(done), out);
  }
  if (ErrorCode e = ValidateStaticMember(g, params.member_id, params.group_instance_id);
      e != ErrorCode::NONE) {
    return fail(e);
  }
  Member* m = g.Find(params.member_id);
  if (m == nullptr) return fail(ErrorCode::UNKNOWN_MEMBER_ID);
  const bool same_protocols = m->protocols == params.protocols;
  switch (g.state()) {
    case GroupState::kPreparingRebalance:
      return UpdateMemberAndRebalance(g, *m, params, std::move(done), out);
    case GroupState::kCompletingRebalance:
      if (same_protocols) {
        // It probably missed the JoinGroup answer: give it again.
        TouchSession(g, *m);
        out.push_back([cb = std::move(done), r = CurrentJoinResult(g, m->member_id)] { cb(r); });
        return;
      }
      return UpdateMemberAndRebalance(g, *m, params, std::move(done), out);
    case GroupState::kStable:
      if (g.IsLeader(m->member_id) || !same_protocols) {
        return UpdateMemberAndRebalance(g, *m, params, std::move(done), out);
      } else {
        // A follower with nothing new: the current generation, then SyncGroup.
        TouchSession(g, *m);
        JoinGroupResult r = CurrentJoinResult(g, m->member_id);
        out.push_back([cb = std::move(done), r] { cb(r); });
        return;
      }
    case GroupState::kEmpty:
    case GroupState::kDead:
      return fail(ErrorCode::UNKNOWN_MEMBER_ID);
  }
}

void GroupCoordinator::AddMemberAndRebalance(Group& g, JoinParams& params, std::string member_id,
                                             JoinCallback done, Deferred& out) {
  Member m;
  m.member_id = std::move(member_id);
  m.group_instance_id = params.group_instance_id;
  m.client_id = params.client_id;
  m.client_host = params.client_host;
  m.session_timeout_ms = params.session_timeout_ms;
  m.rebalance_timeout_ms = params.rebalance_timeout_ms;
  m.protocol_type = params.protocol_type;
  m.protocols = std::move(params.protocols);
  m.awaiting_join = std::move(done);
  const std::string id = m.member_id;
  g.Add(std::move(m));
  TouchSession(g, *g.Find(id));
  if (g.in_initial_delay) g.new_member_during_delay = true;
  MaybePrepareRebalance(g, fmt::format("member {} joined", id), out);
}

void GroupCoordinator::UpdateMemberAndRebalance(Group& g, Member& m, JoinParams& params,
                                                JoinCallback done, Deferred& out) {
  m.protocols = std::move(params.protocols);
  m.session_timeout_ms = params.session_timeout_ms;
  m.rebalance_timeout_ms = params.rebalance_timeout_ms;
  // A second JoinGroup from the same member replaces the first.
  FailWaitingJoin(m, ErrorCode::REBALANCE_IN_PROGRESS, out);
  m.awaiting_join = std::move(done);
  TouchSession(g, m);
  MaybePrepareRebalance(g, fmt::format("member {} rejoined", m.member_id), out);
}

void GroupCoordinator::MaybePrepareRebalance(Group& g, const std::string& reason, Deferred& out) {
  switch (g.state()) {
    case GroupState::kEmpty:
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      PrepareRebalance(g, reason, out);
      break;
    case GroupState::kPreparingRebalance:
      MaybeCompleteJoin(g, out);
      break;
    case GroupState::kDead:
      break;
  }
}

void GroupCoordinator::PrepareRebalance(Group& g, const std::string& reason, Deferred& out) {
  if (g.Is(GroupState::kCompletingRebalance)) {
    PropagateAssignment(g, ErrorCode::REBALANCE_IN_PROGRESS, out);
  }
  const bool first = g.Is(GroupState::kEmpty);
  g.TransitionTo(GroupState::kPreparingRebalance, WallNow());
  g.BumpRebalanceEpoch();
  g.rebalance_started_ms = timers_.NowMs();
  spdlog::info("group {}: preparing rebalance (generation {}): {}", g.id(), g.generation(),
               reason);
  if (first && options_.initial_rebalance_delay_ms > 0) {
    // Let more members of a starting group arrive before the first
    // assignment, so that they do not each cause a rebalance.
    g.in_initial_delay = true;
    g.new_member_during_delay = false;
    ArmRebalanceTimer(g, std::min<int64_t>(options_.initial_rebalance_delay_ms,
                                           g.MaxRebalanceTimeoutMs()));
    return;
  }
  g.in_initial_delay = false;
  ArmRebalanceTimer(g, g.MaxRebalanceTimeoutMs());
  MaybeCompleteJoin(g, out);
}

void GroupCoordinator::MaybeCompleteJoin(Group& g, Deferred& out) {
  if (g.Is(GroupState::kPreparingRebalance) && !g.in_initial_delay && g.AllMembersJoined()) {
    CompleteJoin(g, out);
  }
}

void GroupCoordinator::CompleteJoin(Group& g, Deferred& out) {
  g.in_initial_delay = false;
  // Members that did not rejoin within the rebalance timeout are out.
  const std::vector<std::string> order = g.member_order();
  for (const std::string& id : order) {
    Member* m = g.Find(id);
    if (!m->awaiting_join) {
      spdlog::info("group {}: member {} did not rejoin in time; removed", g.id(), id);
      g.Remove(id);
    }
  }
  g.InitNextGeneration(WallNow());
  g.BumpRebalanceEpoch();  // Disarms the rebalance timer.
  if (g.Is(GroupState::kEmpty)) {
    spdlog::info("group {}: empty at generation {}", g.id(), g.generation());
    StoreGroup(g, [](Status) {}, out);
    return;
  }
  spdlog::info("group {}: generation {} with {} members, protocol {}", g.id(), g.generation(),
               g.size(), g.protocol_name().value_or(""));
  for (const std::string& id : g.member_order()) {
    Member* m = g.Find(id);
    JoinGroupResult r = CurrentJoinResult(g, id);
    out.push_back([cb = std::move(m->awaiting_join), r = std::move(r)] { cb(r); });
    m->awaiting_join = nullptr;
    TouchSession(g, *m);
  }
}

JoinGroupResult GroupCoordinator::CurrentJoinResult(const Group& g,
                                                    const std::string& member_id) const {
  JoinGroupResult r;
  r.generation_id = g.generation();
  r.protocol_type = g.protocol_type();
  r.protocol_name = g.protocol_name();
  r.leader_id = g.leader().value_or("");
  r.member_id = member_id;
  if (g.IsLeader(member_id)) r.members = g.CurrentMemberMetadata();
  return r;
}

void GroupCoordinator::SyncGroup(SyncParams params, SyncCallback done) {
  Deferred out;
  {
    MutexLock lock(&mu_);
    auto fail = [&](ErrorCode error) {
      SyncGroupResult r;
      r.error = error;
      out.push_back([cb = std::move(done), r] { cb(r); });
    };
    const ErrorCode coordinator_error = CoordinatorError(params.group_id);
    Group* g = coordinator_error != ErrorCode::NONE ? nullptr : FindGroup(params.group_id);
    Member* m = g != nullptr ? g->Find(params.member_id) : nullptr;
    if (coordinator_error != ErrorCode::NONE) {
      fail(coordinator_error);
    } else if (g == nullptr) {
      fail(ErrorCode::UNKNOWN_MEMBER_ID);
    } else if (g->Is(GroupState::kDead)) {
      fail(ErrorCode::COORDINATOR_NOT_AVAILABLE);
    } else if (ErrorCode e = ValidateStaticMember(*g, params.member_id, params.group_instance_id);
               e != ErrorCode::NONE) {
      fail(e);
    } else if (m == nullptr) {
      fail(ErrorCode::UNKNOWN_MEMBER_ID);
    } else if (params.generation_id != g->generation()) {
      fail(ErrorCode::ILLEGAL_GENERATION);
    } else if ((params.protocol_type && params.protocol_type != g->protocol_type()) ||
               (params.protocol_name && params.protocol_name != g->protocol_name())) {
      fail(ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    } else {
      switch (g->state()) {
        case GroupState::kEmpty:
        case GroupState::kDead:
          fail(ErrorCode::UNKNOWN_MEMBER_ID);
          break;
        case GroupState::kPreparingRebalance:
          fail(ErrorCode::REBALANCE_IN_PROGRESS);
          break;
        case GroupState::kStable: {
          TouchSession(*g, *m);
          SyncGroupResult r{ErrorCode::NONE, g->protocol_type(), g->protocol_name(),
                            m->assignment};
          out.push_back([cb = std::move(done), r = std::move(r)] { cb(r); });
          break;
        }
        case GroupState::kCompletingRebalance:
          FailWaitingSync(*m, ErrorCode::REBALANCE_IN_PROGRESS, out);
          m->awaiting_sync = std::move(done);
          TouchSession(*g, *m);
          if (g->IsLeader(params.member_id)) {
            // Members the leader left out get an empty assignment.
            for (const std::string& id : g->member_order()) g->Find(id)->assignment.clear();
            for (auto& [id, assignment] : params.assignments) {
              if (Member* target = g->Find(id)) target->assignment = std::move(assignment);
            }
            PersistGroupThenStable(*g, out);
          }
          break;
      }
    }
  }
  Run(out);
}

void GroupCoordinator::PersistGroupThenStable(Group& g, Deferred& out) {
  const std::string group_id = g.id();
  const int32_t generation = g.generation();
  // The assignment is handed out only once it is durable, so a restarted
  // broker never forgets an assignment its members already act on.
  StoreGroup(
      g,
      [this, group_id, generation](Status s) {
        Deferred answers;
        {
          MutexLock lock(&mu_);
          Group* group = closed_ ? nullptr : FindGroup(group_id);
          if (group == nullptr || !group->Is(GroupState::kCompletingRebalance) ||
              group->generation() != generation) {
            return;  // A rebalance started meanwhile; it answered the syncs.
          }
          if (s.ok()) {
            group->TransitionTo(GroupState::kStable, WallNow());
            spdlog::info("group {}: stable at generation {}", group_id, generation);
            PropagateAssignment(*group, ErrorCode::NONE, answers);
          } else {
            spdlog::error("group {}: storing generation {} failed: {}", group_id, generation,
                          s.ToString());
            PropagateAssignment(*group, ErrorCode::COORDINATOR_NOT_AVAILABLE, answers);
            PrepareRebalance(*group, "storing the group failed", answers);
          }
        }
        Run(answers);
      },
      out);
}

void GroupCoordinator::PropagateAssignment(Group& g, ErrorCode error, Deferred& out) {
  for (const std::string& id : g.member_order()) {
    Member* m = g.Find(id);
    if (error != ErrorCode::NONE) m->assignment.clear();
    if (!m->awaiting_sync) continue;
    SyncGroupResult r{error, g.protocol_type(), g.protocol_name(),
                      error == ErrorCode::NONE ? m->assignment : ByteVector{}};
    out.push_back([cb = std::move(m->awaiting_sync), r = std::move(r)] { cb(r); });
    m->awaiting_sync = nullptr;
    TouchSession(g, *m);
  }
}

ErrorCode GroupCoordinator::Heartbeat(const std::string& group_id, int32_t generation_id,
                                      const std::string& member_id,
                                      const std::optional<std::string>& group_instance_id) {
  MutexLock lock(&mu_);
  if (ErrorCode e = CoordinatorError(group_id); e != ErrorCode::NONE) return e;
  Group* g = FindGroup(group_id);
  if (g == nullptr) return ErrorCode::UNKNOWN_MEMBER_ID;
  if (g->Is(GroupState::kDead)) return ErrorCode::COORDINATOR_NOT_AVAILABLE;
  if (ErrorCode e = ValidateStaticMember(*g, member_id, group_instance_id); e != ErrorCode::NONE) {
    return e;
  }
  Member* m = g->Find(member_id);
  if (m == nullptr) return ErrorCode::UNKNOWN_MEMBER_ID;
  if (generation_id != g->generation()) return ErrorCode::ILLEGAL_GENERATION;
  TouchSession(*g, *m);
  return g->Is(GroupState::kPreparingRebalance) ? ErrorCode::REBALANCE_IN_PROGRESS
                                                : ErrorCode::NONE;
}

std::pair<ErrorCode, std::vector<ErrorCode>> GroupCoordinator::LeaveGroup(
    const std::string& group_id, const std::vector<MemberIdentity>& members) {
  std::vector<ErrorCode> errors;
  ErrorCode top = ErrorCode::NONE;
  Deferred out;
  {
    MutexLock lock(&mu_);
    const ErrorCode coordinator_error = CoordinatorError(group_id);
    Group* g = coordinator_error != ErrorCode::NONE ? nullptr : FindGroup(group_id);
    if (coordinator_error != ErrorCode::NONE) {
      top = coordinator_error;
    } else if (g != nullptr && g->Is(GroupState::kDead)) {
      top = ErrorCode::COORDINATOR_NOT_AVAILABLE;
    }
    for (const MemberIdentity& who : members) {
      if (top != ErrorCode::NONE) {
        errors.push_back(top);
        continue;
      }
      if (g == nullptr) {
        errors.push_back(ErrorCode::UNKNOWN_MEMBER_ID);
        continue;
      }
      std::string target = who.member_id;
      if (who.group_instance_id) {
        auto registered = g->MemberOfInstance(*who.group_instance_id);
        if (!registered) {
          errors.push_back(ErrorCode::UNKNOWN_MEMBER_ID);
          continue;
        }
        if (!who.member_id.empty() && who.member_id != *registered) {
          errors.push_back(ErrorCode::FENCED_INSTANCE_ID);
          continue;
        }
        target = *registered;
      } else if (g->pending_members().erase(who.member_id) > 0) {
        errors.push_back(ErrorCode::NONE);
        MaybeCompleteJoin(*g, out);
        continue;
      }
      if (g->Find(target) == nullptr) {
        errors.push_back(ErrorCode::UNKNOWN_MEMBER_ID);
        continue;
      }
      RemoveMemberAndUpdateGroup(*g, target, "left the group", out);
      errors.push_back(ErrorCode::NONE);
    }
  }
  Run(out);
  return {top, std::move(errors)};
}

void GroupCoordinator::RemoveMemberAndUpdateGroup(Group& g, const std::string& member_id,
                                                  const std::string& reason, Deferred& out) {
  Member* m = g.Find(member_id);
  if (m == nullptr) return;
  FailWaitingJoin(*m, ErrorCode::UNKNOWN_MEMBER_ID, out);
  FailWaitingSync(*m, ErrorCode::UNKNOWN_MEMBER_ID, out);
  g.Remove(member_id);
  spdlog::info("group {}: member {} {}", g.id(), member_id, reason);
  switch (g.state()) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      PrepareRebalance(g, fmt::format("member {} {}", member_id, reason), out);
      break;
    case GroupState::kPreparingRebalance:
      MaybeCompleteJoin(g, out);
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
}

void GroupCoordinator::TouchSession(Group& g, Member& m) {
  m.session_deadline_ms = timers_.NowMs() + m.session_timeout_ms;
  if (m.session_timer_armed) return;  // The armed timer re-arms itself.
  m.session_timer_armed = true;
  ArmSessionTimer(g.id(), m.member_id, m.session_deadline_ms);
}

void GroupCoordinator::ArmSessionTimer(const std::string& group_id, const std::string& member_id,
                                       int64_t due_ms) {
  const int64_t delay = std::max<int64_t>(0, due_ms - timers_.NowMs());
  timers_.Schedule(std::chrono::milliseconds(delay),
                   [this, group_id, member_id] { OnSessionTimer(group_id, member_id); });
}

void GroupCoordinator::OnSessionTimer(const std::string& group_id, const std::string& member_id) {
  Deferred out;
  {
    MutexLock lock(&mu_);
    Group* g = closed_ ? nullptr : FindGroup(group_id);
    Member* m = g != nullptr ? g->Find(member_id) : nullptr;
    if (m == nullptr) return;
    const int64_t now = timers_.NowMs();
    // A member waiting on the coordinator cannot heartbeat: keep it alive.
    if (m->awaiting_join || m->awaiting_sync) m->session_deadline_ms = now + m->session_timeout_ms;
    if (now < m->session_deadline_ms) {
      ArmSessionTimer(group_id, member_id, m->session_deadline_ms);
      return;
    }
    m->session_timer_armed = false;
    RemoveMemberAndUpdateGroup(*g, member_id, "expired (no heartbeat within the session timeout)",
                               out);
  }
  Run(out);
}

void GroupCoordinator::ArmPendingMemberTimer(const std::string& group_id,
                                             const std::string& member_id, int32_t timeout_ms) {
  timers_.Schedule(std::chrono::milliseconds(timeout_ms), [this, group_id, member_id] {
    Deferred out;
    {
      MutexLock lock(&mu_);
      Group* g = closed_ ? nullptr : FindGroup(group_id);
      if (g == nullptr || g->pending_members().erase(member_id) == 0) return;
      MaybeCompleteJoin(*g, out);
    }
    Run(out);
  });
}

void GroupCoordinator::ArmRebalanceTimer(Group& g, int64_t delay_ms) {
  timers_.Schedule(std::chrono::milliseconds(std::max<int64_t>(0, delay_ms)),
                   [this, group_id = g.id(), epoch = g.rebalance_epoch()] {
                     OnRebalanceTimer(group_id, epoch);
                   });
}

void GroupCoordinator::OnRebalanceTimer(const std::string& group_id, uint64_t epoch) {
  Deferred out;
  {
    MutexLock lock(&mu_);
    Group* g = closed_ ? nullptr : FindGroup(group_id);
    if (g == nullptr || g->rebalance_epoch() != epoch || !g->Is(GroupState::kPreparingRebalance)) {
      return;
    }
    if (g->in_initial_delay) {
      const int64_t remaining =
          g->MaxRebalanceTimeoutMs() - (timers_.NowMs() - g->rebalance_started_ms);
      if (g->new_member_during_delay && remaining > 0) {
        g->new_member_during_delay = false;
        ArmRebalanceTimer(*g, std::min<int64_t>(options_.initial_rebalance_delay_ms, remaining));
        return;
      }
    }
    CompleteJoin(*g, out);
  }
  Run(out);
}

}  // namespace sluice::group
