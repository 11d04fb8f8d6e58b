#include "controller/partition_state_machine.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "controller/leader_election.h"
#include "controller/leader_imbalance.h"
#include "controller/reassignment_writer.h"

namespace sluice::controller {

using zk::ZkCode;

namespace {

// State writes per ZooKeeper transaction: far below its 1 MB request limit,
// and few enough that one conflict (which makes the batch be redone one
// partition at a time) costs little.
constexpr size_t kMaxWritesPerMulti = 100;

std::string PartitionNodePath(const std::string& topic, int32_t partition) {
  return fmt::format("{}/{}", zk::PartitionsPath(topic), partition);
}

bool SameRegistration(const zk::BrokerRegistration& a, const zk::BrokerRegistration& b) {
  return zk::EncodeBroker(a) == zk::EncodeBroker(b);
}

}  // namespace

const char* AlterPartitionErrorName(AlterPartitionError e) {
  switch (e) {
    case AlterPartitionError::kNone: return "NONE";
    case AlterPartitionError::kNotController: return "NOT_CONTROLLER";
    case AlterPartitionError::kUnknownTopicOrPartition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case AlterPartitionError::kFencedLeaderEpoch: return "FENCED_LEADER_EPOCH";
    case AlterPartitionError::kInvalidUpdateVersion: return "INVALID_UPDATE_VERSION";
    case AlterPartitionError::kIneligibleReplica: return "INELIGIBLE_REPLICA";
    case AlterPartitionError::kInvalidRequest: return "INVALID_REQUEST";
    case AlterPartitionError::kWriteFailed: return "UNKNOWN_SERVER_ERROR";
  }
  return "?";
}

const char* ControlledShutdownErrorName(ControlledShutdownError e) {
  switch (e) {
    case ControlledShutdownError::kNone: return "NONE";
    case ControlledShutdownError::kNotController: return "NOT_CONTROLLER";
    case ControlledShutdownError::kBrokerNotAvailable: return "BROKER_NOT_AVAILABLE";
  }
  return "?";
}

// The requests one event produces, sent together at its end (Kafka's
// ControllerBrokerRequestBatch): LeaderAndIsr, then UpdateMetadata, then
// StopReplica. Partition states are taken from the model when sent, so a
// partition changed twice in one event is sent once, as it ended.
class PartitionStateMachine::Batch {
 public:
  explicit Batch(PartitionStateMachine* m) : m_(m) {}

  // LeaderAndIsr for `tp` to each of its live replicas.
  void LeaderAndIsr(const TopicPartition& tp, bool is_new) {
    const PartitionModel* p = Find(tp);
    if (p == nullptr || !p->state) return;
    for (int32_t r : p->replicas) {
      if (m_->live_.contains(r)) {
        auto [it, inserted] = lai_[r].emplace(tp, is_new);
        if (!inserted) it->second = it->second || is_new;
      }
    }
  }
  // LeaderAndIsr for every partition `broker` replicates, marked full.
  void FullLeaderAndIsr(int32_t broker) {
    full_lai_.insert(broker);
    auto& mine = lai_[broker];
    for (const auto& [name, topic] : m_->topics_) {
      for (const auto& [p, model] : topic.partitions) {
        if (!model.state) continue;
        if (std::find(model.replicas.begin(), model.replicas.end(), broker) !=
            model.replicas.end()) {
          mine.emplace(TopicPartition{name, p}, false);
        }
      }
    }
  }
  // UpdateMetadata for `tp` to every live broker.
  void UpdateMetadata(const TopicPartition& tp) { um_.insert(tp); }
  void UpdateMetadata(PartitionLeaderInfo info) { um_extra_.push_back(std::move(info)); }
  // UpdateMetadata to every live broker even without partitions: the live
  // set (or a registration) changed.
  void BrokersChanged() { um_needed_ = true; }
  // UpdateMetadata with every partition to `broker`.
  void FullUpdateMetadata(int32_t broker) { full_um_.insert(broker); }
  void StopReplica(int32_t broker, StopReplicaPartition p) {
    stop_[broker].push_back(std::move(p));
  }
  void Announce(const Applied& a) {
    for (const TopicPartition& tp : a.written) {
      LeaderAndIsr(tp, a.created.contains(tp));
      UpdateMetadata(tp);
    }
  }

  void Flush() {
    if (!m_->Acting()) return;  // Deposed meanwhile: tell no one anything.
    ControllerChannel* channel = m_->channel_;
    const int32_t id = m_->options_.broker_id;
    const int32_t epoch = m_->epoch_.epoch;
    for (auto& [broker, tps] : lai_) {
      if (!m_->live_.contains(broker)) continue;
      LeaderAndIsrRequest r;
      r.controller_id = id;
      r.controller_epoch = epoch;
      r.full = full_lai_.contains(broker);
      std::set<int32_t> leaders;
      for (const auto& [tp, is_new] : tps) {
        if (Find(tp) == nullptr) continue;
        PartitionLeaderInfo info = m_->Info(tp);
        info.is_new = is_new;
        info.offline_replicas.clear();
        leaders.insert(info.leader);
        r.partitions.push_back(std::move(info));
      }
      for (int32_t l : leaders) {
        auto it = m_->live_.find(l);
        if (it != m_->live_.end()) r.live_leaders.push_back(it->second);
      }
      if (r.partitions.empty() && !r.full) continue;
      channel->SendLeaderAndIsr(broker, std::move(r));
    }
    std::vector<zk::BrokerRegistration> live;
    for (const auto& [b, reg] : m_->live_) live.push_back(reg);
    if (um_needed_ || !um_.empty() || !um_extra_.empty()) {
      std::vector<int32_t> to;
      for (const auto& [b, reg] : m_->live_) {
        if (!full_um_.contains(b)) to.push_back(b);
      }
      UpdateMetadataRequest r;
      r.controller_id = id;
      r.controller_epoch = epoch;
      r.live_brokers = live;
      for (const TopicPartition& tp : um_) {
        if (Find(tp) != nullptr) r.partitions.push_back(m_->Info(tp));
      }
      for (const PartitionLeaderInfo& info : um_extra_) r.partitions.push_back(info);
      if (!to.empty()) channel->SendUpdateMetadata(std::move(to), std::move(r));
    }
    std::vector<int32_t> full_to;
    for (int32_t b : full_um_) {
      if (m_->live_.contains(b)) full_to.push_back(b);
    }
    if (!full_to.empty()) {
      UpdateMetadataRequest r;
      r.controller_id = id;
      r.controller_epoch = epoch;
      r.live_brokers = live;
      for (const TopicPartition& tp : m_->AllPartitions()) {
        if (Find(tp)->state) r.partitions.push_back(m_->Info(tp));
      }
      for (const PartitionLeaderInfo& info : um_extra_) r.partitions.push_back(info);
      channel->SendUpdateMetadata(std::move(full_to), std::move(r));
    }
    for (auto& [broker, partitions] : stop_) {
      if (!m_->live_.contains(broker)) continue;
      StopReplicaRequest r;
      r.controller_id = id;
      r.controller_epoch = epoch;
      r.partitions = std::move(partitions);
      channel->SendStopReplica(broker, std::move(r));
    }
  }

 private:
  const PartitionModel* Find(const TopicPartition& tp) const {
    auto t = m_->topics_.find(tp.topic);
    if (t == m_->topics_.end()) return nullptr;
    auto p = t->second.partitions.find(tp.partition);
    return p == t->second.partitions.end() ? nullptr : &p->second;
  }

  PartitionStateMachine* const m_;
  std::map<int32_t, std::map<TopicPartition, bool>> lai_;  // broker -> partition -> is_new
  std::set<int32_t> full_lai_;
  std::set<TopicPartition> um_;
  std::vector<PartitionLeaderInfo> um_extra_;
  bool um_needed_ = false;
  std::set<int32_t> full_um_;
  std::map<int32_t, std::vector<StopReplicaPartition>> stop_;
};

PartitionStateMachine::PartitionStateMachine(ZkSession* session, EventLoop* loop,
                                             ControllerChannel* channel,
                                             PartitionStateMachineOptions options)
    : session_(session), loop_(loop), channel_(channel), options_(std::move(options)) {}

PartitionStateMachine::~PartitionStateMachine() = default;

std::optional<PartitionModel> PartitionStateMachine::partition(const TopicPartition& tp) const {
  auto t = topics_.find(tp.topic);
  if (t == topics_.end()) return std::nullopt;
  auto p = t->second.partitions.find(tp.partition);
  if (p == t->second.partitions.end()) return std::nullopt;
  return p->second;
}

std::set<int32_t> PartitionStateMachine::LiveIds() const {
  std::set<int32_t> out;
  for (const auto& [id, reg] : live_) out.insert(id);
  return out;
}

std::set<int32_t> PartitionStateMachine::ElectableIds() const {
  std::set<int32_t> out = LiveIds();
  for (int32_t b : shutting_down_) out.erase(b);
  return out;
}

std::vector<TopicPartition> PartitionStateMachine::AllPartitions() const {
  std::vector<TopicPartition> out;
  for (const auto& [name, topic] : topics_) {
    for (const auto& [p, model] : topic.partitions) out.push_back({name, p});
  }
  return out;
}

PartitionLeaderInfo PartitionStateMachine::Info(const TopicPartition& tp) const {
  const TopicModel& t = topics_.at(tp.topic);
  const PartitionModel& p = t.partitions.at(tp.partition);
  PartitionLeaderInfo info;
  info.topic = tp.topic;
  info.topic_id = t.id;
  info.partition = tp.partition;
  if (p.state) {
    info.controller_epoch = p.state->controller_epoch;
    info.leader = p.state->leader;
    info.leader_epoch = p.state->leader_epoch;
    info.isr = p.state->isr;
  }
  info.partition_epoch = p.version;
  info.replicas = p.replicas;
  for (int32_t r : p.replicas) {
    if (!live_.contains(r)) info.offline_replicas.push_back(r);
  }
  return info;
}

zk::ZkOp PartitionStateMachine::EpochCheck() const {
  // The same check as ControllerElection::EpochCheck for the epoch it won.
  return zk::ZkOp::Check(zk::kControllerEpochPath, epoch_.zk_version);
}

zk::Watcher PartitionStateMachine::PostOnChange(std::function<void()> event) {
  EventLoop* loop = loop_;
  std::weak_ptr<int> alive = alive_;
  const uint64_t generation = generation_;
  return [this, loop, alive, generation, event = std::move(event)](zk::WatchEvent e,
                                                                   const std::string&) {
    // A session's end is the election's business: it deactivates us.
    if (e == zk::WatchEvent::kSessionEnded) return;
    loop->Post([this, alive, generation, event] {
      if (alive.expired() || generation != generation_) return;
      event();
    });
  };
}

Status PartitionStateMachine::Activate(ControllerEpoch epoch,
                                       std::map<int32_t, zk::BrokerRegistration> live) {
  Deactivate();
  epoch_ = epoch;
  live_ = std::move(live);
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  for (const char* parent : {zk::kTopicsPath, zk::kDeleteTopicsPath}) {
    zk::ZkError e = zk->CreateRecursive(parent);
    if (!e.ok()) return e.ToStatus();
  }
  std::vector<std::string> names;
  WatchTopics(*zk, &names);
  if (!topics_watch_armed_) {
    Deactivate();
    return Status::IOError("reading the topics in ZooKeeper failed");
  }
  for (const std::string& name : names) {
    Status s = LoadTopic(*zk, name, nullptr);
    if (!s.ok()) {
      Deactivate();
      return s;
    }
  }
  active_ = true;
  size_t partitions = 0;
  for (const auto& [name, topic] : topics_) partitions += topic.partitions.size();
  spdlog::info("controller epoch {}: {} topics, {} partitions, {} live brokers", epoch_.epoch,
               topics_.size(), partitions, live_.size());

  const std::set<int32_t> live_ids = LiveIds();
  const Applied applied = Apply(*zk, AllPartitions(), [&](const TopicPartition&,
                                                          const PartitionModel& m) {
    return DecideForLiveBrokers(m.replicas, m.state, live_ids, shutting_down_,
                                options_.unclean_leader_election, epoch_.epoch);
  });
  if (deposed_) return Status::Aborted("another controller took over during activation");
  Batch batch(this);
  batch.Announce(applied);
  for (const auto& [b, reg] : live_) {
    batch.FullLeaderAndIsr(b);
    batch.FullUpdateMetadata(b);
  }
  batch.Flush();
  {
    // Reassignments an earlier controller started: resume (the full
    // LeaderAndIsr above restarted the fetches), complete those done.
    Batch completed(this);
    CompleteReassignments(*zk, Reassigning(), completed);
    completed.Flush();
  }
  OnDeletionsChanged();
  return Status::Ok();
}

void PartitionStateMachine::Deactivate() {
  ++generation_;
  active_ = false;
  deposed_ = false;
  topics_.clear();
  live_.clear();
  shutting_down_.clear();
  topics_watch_armed_ = false;
  deletions_watch_armed_ = false;
  assignment_watches_armed_.clear();
}

void PartitionStateMachine::WatchTopics(zk::ZkClient& zk, std::vector<std::string>* children) {
  zk::Watcher watch;
  if (!topics_watch_armed_) {
    watch = PostOnChange([this] {
      topics_watch_armed_ = false;
      if (Acting()) OnTopicsChanged();
    });
  }
  auto names = zk.GetChildren(zk::kTopicsPath, watch);
  if (!names.ok()) {
    spdlog::warn("controller: reading {}: {}", zk::kTopicsPath, names.error().message());
    return;
  }
  if (watch) topics_watch_armed_ = true;
  *children = std::move(*names);
}

Status PartitionStateMachine::LoadTopic(zk::ZkClient& zk, const std::string& topic,
                                        std::vector<TopicPartition>* added) {
  zk::Watcher watch;
  if (!assignment_watches_armed_.contains(topic)) {
    watch = PostOnChange([this, topic] {
      assignment_watches_armed_.erase(topic);
      if (Acting()) OnAssignmentChanged(topic);
    });
  }
  auto node = zk.Get(zk::TopicPath(topic), watch);
  if (node.code() == ZkCode::kNoNode) return Status::Ok();  // Deleted meanwhile.
  if (!node.ok()) return Status::IOError(node.error().message());
  if (watch) assignment_watches_armed_.insert(topic);
  auto assignment = zk::DecodeTopicAssignment(node->data);
  if (!assignment.ok()) {
    spdlog::error("controller: ignoring topic '{}': {}", topic, assignment.status().message());
    return Status::Ok();
  }
  TopicModel& t = topics_[topic];
  t.id = ParseTopicUuid(assignment->topic_id).value_or(kNoTopicUuid);
  for (const auto& [p, replicas] : assignment->partitions) {
    if (t.partitions.contains(p)) continue;  // Reassignment is not this path's.
    PartitionModel m;
    m.replicas = replicas;
    if (auto a = assignment->adding_replicas.find(p); a != assignment->adding_replicas.end()) {
      m.adding = a->second;
    }
    if (auto r = assignment->removing_replicas.find(p); r != assignment->removing_replicas.end()) {
      m.removing = r->second;
    }
    auto state = zk.Get(zk::PartitionStatePath(topic, p));
    if (state.ok()) {
      auto decoded = zk::DecodePartitionState(state->data);
      if (decoded.ok()) {
        m.state = std::move(*decoded);
        m.version = state->stat.version;
      } else {
        spdlog::error("controller: {}-{}: {}; treating it as new", topic, p,
                      decoded.status().message());
      }
    } else if (state.code() != ZkCode::kNoNode) {
      return Status::IOError(state.error().message());
    }
    t.partitions.emplace(p, std::move(m));
    if (added != nullptr) added->push_back({topic, p});
  }
  return Status::Ok();
}

void PartitionStateMachine::OnTopicsChanged() {
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  std::vector<std::string> names;
  WatchTopics(*zk, &names);
  if (!topics_watch_armed_) return;  // Failed (logged); the next activation reads again.
  std::vector<TopicPartition> added;
  for (const std::string& name : names) {
    if (topics_.contains(name)) continue;
    Status s = LoadTopic(*zk, name, &added);
    if (!s.ok()) spdlog::warn("controller: reading new topic '{}': {}", name, s.message());
  }
  const std::set<std::string> present(names.begin(), names.end());
  for (auto it = topics_.begin(); it != topics_.end();) {
    it = present.contains(it->first) ? std::next(it) : topics_.erase(it);
  }
  const std::set<int32_t> live_ids = LiveIds();
  const Applied applied = Apply(*zk, added, [&](const TopicPartition&, const PartitionModel& m) {
    return DecideForLiveBrokers(m.replicas, m.state, live_ids, shutting_down_,
                                options_.unclean_leader_election, epoch_.epoch);
  });
  Batch batch(this);
  batch.Announce(applied);
  batch.Flush();
}

void PartitionStateMachine::OnAssignmentChanged(const std::string& topic) {
  if (!topics_.contains(topic)) return;  // Deleted; the topics watch has it.
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  std::vector<TopicPartition> added;
  Status s = LoadTopic(*zk, topic, &added);
  if (!s.ok()) {
    spdlog::warn("controller: reading topic '{}': {}", topic, s.message());
    return;
  }
  const std::set<int32_t> live_ids = LiveIds();
  const Applied applied = Apply(*zk, added, [&](const TopicPartition&, const PartitionModel& m) {
    return DecideForLiveBrokers(m.replicas, m.state, live_ids, shutting_down_,
                                options_.unclean_leader_election, epoch_.epoch);
  });
  Batch batch(this);
  batch.Announce(applied);
  batch.Flush();
}

void PartitionStateMachine::OnBrokersChanged(std::map<int32_t, zk::BrokerRegistration> live) {
  if (!Acting()) return;
  ForgetShutdowns(live);
  std::set<int32_t> dead, born, bounced;
  bool changed = false;
  for (const auto& [id, reg] : live_) {
    auto now = live.find(id);
    if (now == live.end()) {
      dead.insert(id);
    } else if (now->second.timestamp_ms != reg.timestamp_ms) {
      bounced.insert(id);  // Registered again: the broker restarted.
    } else if (!SameRegistration(now->second, reg)) {
      changed = true;
    }
  }
  for (const auto& [id, reg] : live) {
    if (!live_.contains(id)) born.insert(id);
  }
  if (dead.empty() && born.empty() && bounced.empty() && !changed) return;
  spdlog::info("controller: brokers gone {}, new {}, restarted {}", dead, born, bounced);

  std::shared_ptr<zk::ZkClient> zk = session_->client();
  Batch batch(this);
  auto decide_all = [&] {
    const std::set<int32_t> live_ids = LiveIds();
    batch.Announce(Apply(*zk, AllPartitions(), [&](const TopicPartition&,
                                                   const PartitionModel& m) {
      return DecideForLiveBrokers(m.replicas, m.state, live_ids, shutting_down_,
                                  options_.unclean_leader_election, epoch_.epoch);
    }));
  };
  if (!bounced.empty()) {
    // A restarted broker lost what it held in memory: first as if it had
    // gone (its leaderships move, it leaves ISRs), then as a new one.
    live_ = live;
    for (int32_t b : bounced) live_.erase(b);
    decide_all();
    if (deposed_) return;
  }
  live_ = std::move(live);
  decide_all();
  if (deposed_) return;
  std::set<int32_t> touched = dead;
  for (int32_t b : born) touched.insert(b);
  for (int32_t b : bounced) touched.insert(b);
  for (int32_t b : touched) {
    if (live_.contains(b)) {
      batch.FullUpdateMetadata(b);
      batch.FullLeaderAndIsr(b);
    }
  }
  // Their offline replicas changed, if nothing else did.
  for (const auto& [name, topic] : topics_) {
    for (const auto& [p, m] : topic.partitions) {
      if (!m.state) continue;
      for (int32_t r : m.replicas) {
        if (touched.contains(r)) {
          batch.UpdateMetadata(TopicPartition{name, p});
          break;
        }
      }
    }
  }
  CompleteReassignments(*zk, Reassigning(), batch);
  batch.BrokersChanged();
  batch.Flush();
}

void PartitionStateMachine::ForgetShutdowns(const std::map<int32_t, zk::BrokerRegistration>& live) {
  for (auto it = shutting_down_.begin(); it != shutting_down_.end();) {
    auto now = live.find(*it);
    auto before = live_.find(*it);
    const bool same_process = now != live.end() && before != live_.end() &&
                              now->second.timestamp_ms == before->second.timestamp_ms;
    it = same_process ? std::next(it) : shutting_down_.erase(it);
  }
}

ControlledShutdownResult PartitionStateMachine::ControlledShutdown(int32_t broker_id) {
  ControlledShutdownResult result;
  if (!Acting()) {
    result.error = ControlledShutdownError::kNotController;
    return result;
  }
  if (!live_.contains(broker_id)) {
    result.error = ControlledShutdownError::kBrokerNotAvailable;
    return result;
  }
  if (shutting_down_.insert(broker_id).second) {
    spdlog::info("controller: broker {} is shutting down; moving its leaderships", broker_id);
  }
  auto hosts = [broker_id](const PartitionModel& m) {
    return m.state && std::find(m.replicas.begin(), m.replicas.end(), broker_id) != m.replicas.end();
  };
  std::vector<TopicPartition> hosted;
  for (const auto& [name, topic] : topics_) {
    for (const auto& [p, m] : topic.partitions) {
      if (hosts(m)) hosted.push_back({name, p});
    }
  }
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  const std::set<int32_t> live_ids = LiveIds();
  const Applied applied = Apply(*zk, hosted, [&](const TopicPartition&, const PartitionModel& m) {
    if (!m.state) return std::optional<zk::PartitionState>();
    return DecideForControlledShutdown(m.replicas, *m.state, broker_id, live_ids, shutting_down_,
                                       epoch_.epoch);
  });
  if (deposed_) {
    result.error = ControlledShutdownError::kNotController;
    return result;
  }
  Batch batch(this);
  batch.Announce(applied);
  for (const TopicPartition& tp : hosted) {
    std::optional<PartitionModel> m = partition(tp);
    if (!m || !hosts(*m)) continue;  // Deleted meanwhile.
    if (m->state->leader == broker_id) {
      result.remaining.push_back(tp);
    } else {
      batch.StopReplica(broker_id,
                        StopReplicaPartition{tp.topic, tp.partition, m->state->leader_epoch, false});
    }
  }
  batch.Flush();
  spdlog::info("controller: broker {} shutting down: {} partition(s) changed, {} still led by it",
               broker_id, applied.written.size(), result.remaining.size());
  return result;
}

AlterPartitionResult PartitionStateMachine::AlterPartition(const AlterPartitionRequest& request) {
  AlterPartitionResult result;
  if (!Acting()) {
    result.error = AlterPartitionError::kNotController;
    return result;
  }
  const TopicPartition tp{request.topic, request.partition};
  auto t = topics_.find(tp.topic);
  PartitionModel* m = nullptr;
  if (t != topics_.end()) {
    auto p = t->second.partitions.find(tp.partition);
    if (p != t->second.partitions.end()) m = &p->second;
  }
  if (m == nullptr || !m->state) {
    result.error = AlterPartitionError::kUnknownTopicOrPartition;
    return result;
  }
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const zk::PartitionState current = *m->state;
    if (request.leader_epoch != current.leader_epoch || request.broker_id != current.leader) {
      result.error = AlterPartitionError::kFencedLeaderEpoch;
      return result;
    }
    if (request.new_isr == current.isr) {
      // Nothing to change (the retry of a request that was applied).
      result.state = current;
      result.partition_epoch = m->version;
      return result;
    }
    if (request.partition_epoch != m->version) {
      result.error = AlterPartitionError::kInvalidUpdateVersion;
      return result;
    }
    const std::set<int32_t> members(request.new_isr.begin(), request.new_isr.end());
    const bool well_formed =
        !request.new_isr.empty() && members.size() == request.new_isr.size() &&
        members.contains(current.leader) &&
        std::all_of(request.new_isr.begin(), request.new_isr.end(), [&](int32_t r) {
          return std::find(m->replicas.begin(), m->replicas.end(), r) != m->replicas.end();
        });
    if (!well_formed) {
      result.error = AlterPartitionError::kInvalidRequest;
      return result;
    }
    for (int32_t r : request.new_isr) {
      // A broker shutting down may stay in the ISR, never join it.
      const bool joins = std::find(current.isr.begin(), current.isr.end(), r) == current.isr.end();
      if (!live_.contains(r) || (joins && shutting_down_.contains(r))) {
        result.error = AlterPartitionError::kIneligibleReplica;
        return result;
      }
    }
    zk::PartitionState next = current;
    next.isr = request.new_isr;
    next.controller_epoch = epoch_.epoch;
    zk::ZkError e = zk->Multi({EpochCheck(), zk::ZkOp::Set(zk::PartitionStatePath(tp.topic, tp.partition),
                                                           zk::EncodePartitionState(next),
                                                           m->version)});
    if (e.ok()) {
      m->state = next;
      ++m->version;
      result.state = next;
      result.partition_epoch = m->version;
      Batch batch(this);
      batch.UpdateMetadata(tp);
      // The ISR may now hold every target replica of a reassignment.
      CompleteReassignments(*zk, {tp}, batch);
      batch.Flush();
      return result;
    }
    if (CheckDeposed(*zk)) {
      result.error = AlterPartitionError::kNotController;
      return result;
    }
    if (e.code() != ZkCode::kBadVersion && e.code() != ZkCode::kConnectionLoss) break;
    // The model was behind (or the answer was lost): read, and judge again.
    Reread(*zk, tp);
    if (!m->state) break;
  }
  result.error = AlterPartitionError::kWriteFailed;
  return result;
}

std::map<TopicPartition, ElectionError> PartitionStateMachine::ElectPreferredLeaders(
    const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, ElectionError> out;
  if (!Acting()) {
    for (const TopicPartition& tp : partitions) out[tp] = ElectionError::kNotController;
    return out;
  }
  const std::set<int32_t> live_ids = ElectableIds();
  std::vector<TopicPartition> eligible;
  auto judge = [&](const PartitionModel& m) {
    switch (DecidePreferred(m.replicas, *m.state, live_ids)) {
      case PreferredElection::kElect: return ElectionError::kNone;
      case PreferredElection::kNotNeeded: return ElectionError::kElectionNotNeeded;
      case PreferredElection::kNotAvailable: return ElectionError::kPreferredLeaderNotAvailable;
    }
    return ElectionError::kPreferredLeaderNotAvailable;
  };
  for (const TopicPartition& tp : partitions) {
    std::optional<PartitionModel> m = partition(tp);
    if (!m || !m->state) {
      out[tp] = ElectionError::kUnknownTopicOrPartition;
      continue;
    }
    out[tp] = judge(*m);
    if (out[tp] == ElectionError::kNone) eligible.push_back(tp);
  }
  if (eligible.empty()) return out;
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  const Applied applied = Apply(*zk, eligible, [&](const TopicPartition&,
                                                   const PartitionModel& m)
                                                   -> std::optional<zk::PartitionState> {
    if (!m.state || DecidePreferred(m.replicas, *m.state, live_ids) != PreferredElection::kElect) {
      return std::nullopt;
    }
    zk::PartitionState next = *m.state;
    next.leader = m.replicas.front();
    ++next.leader_epoch;
    next.controller_epoch = epoch_.epoch;
    return next;
  });
  for (const TopicPartition& tp : eligible) {
    std::optional<PartitionModel> m = partition(tp);
    if (deposed_ && !applied.written.contains(tp)) {
      out[tp] = ElectionError::kNotController;
    } else if (applied.failed.contains(tp) || !m || !m->state) {
      out[tp] = ElectionError::kWriteFailed;
    } else if (m->state->leader == m->replicas.front()) {
      out[tp] = ElectionError::kNone;
    } else {
      out[tp] = judge(*m);
    }
  }
  Batch batch(this);
  batch.Announce(applied);
  batch.Flush();
  return out;
}

std::map<TopicPartition, ElectionError> PartitionStateMachine::ElectUncleanLeaders(
    const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, ElectionError> out;
  if (!Acting()) {
    for (const TopicPartition& tp : partitions) out[tp] = ElectionError::kNotController;
    return out;
  }
  const std::set<int32_t> live_ids = LiveIds();
  auto judge = [&](const PartitionModel& m) {
    switch (DecideUnclean(m.replicas, *m.state, live_ids, shutting_down_, epoch_.epoch).outcome) {
      case UncleanElection::kElect: return ElectionError::kNone;
      case UncleanElection::kNotNeeded: return ElectionError::kElectionNotNeeded;
      case UncleanElection::kNoneEligible: return ElectionError::kEligibleLeadersNotAvailable;
    }
    return ElectionError::kEligibleLeadersNotAvailable;
  };
  std::vector<TopicPartition> eligible;
  for (const TopicPartition& tp : partitions) {
    std::optional<PartitionModel> m = partition(tp);
    if (!m || !m->state) {
      out[tp] = ElectionError::kUnknownTopicOrPartition;
      continue;
    }
    out[tp] = judge(*m);
    if (out[tp] == ElectionError::kNone) eligible.push_back(tp);
  }
  if (eligible.empty()) return out;
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  std::set<TopicPartition> outside_isr;  // led by a replica that was not in the ISR
  auto decide = [&](const TopicPartition& tp,
                    const PartitionModel& m) -> std::optional<zk::PartitionState> {
    if (!m.state) return std::nullopt;
    UncleanDecision d = DecideUnclean(m.replicas, *m.state, live_ids, shutting_down_, epoch_.epoch);
    if (d.outcome != UncleanElection::kElect) return std::nullopt;
    const std::vector<int32_t>& isr = m.state->isr;
    if (std::find(isr.begin(), isr.end(), d.next.leader) == isr.end()) outside_isr.insert(tp);
    return d.next;
  };
  const Applied applied = Apply(*zk, eligible, decide);
  for (const TopicPartition& tp : eligible) {
    std::optional<PartitionModel> m = partition(tp);
    if (deposed_ && !applied.written.contains(tp)) {
      out[tp] = ElectionError::kNotController;
    } else if (applied.failed.contains(tp) || !m || !m->state) {
      out[tp] = ElectionError::kWriteFailed;
    } else if (applied.written.contains(tp)) {
      out[tp] = ElectionError::kNone;
    } else {
      out[tp] = judge(*m);  // Its state moved on meanwhile.
    }
  }
  for (const TopicPartition& tp : applied.written) {
    if (!outside_isr.contains(tp)) continue;
    const zk::PartitionState s = *partition(tp)->state;
    spdlog::warn("controller: unclean election on request: {}-{} now led by {} from outside the "
                 "ISR (leader epoch {}); records only the old ISR had are lost",
                 tp.topic, tp.partition, s.leader, s.leader_epoch);
  }
  Batch batch(this);
  batch.Announce(applied);
  batch.Flush();
  return out;
}

std::map<TopicPartition, ElectionError> PartitionStateMachine::RebalancePreferredLeaders(
    int32_t imbalance_percentage) {
  if (!Acting()) return {};
  const std::vector<TopicPartition> tps =
      PartitionsToRebalance(topics_, ElectableIds(), imbalance_percentage);
  if (tps.empty()) return {};
  std::map<TopicPartition, ElectionError> out = ElectPreferredLeaders(tps);
  size_t moved = 0;
  for (const auto& [tp, e] : out) moved += e == ElectionError::kNone ? 1 : 0;
  spdlog::info("controller: leader imbalance above {}%: moved {} of {} partitions back to their "
               "preferred leader",
               imbalance_percentage, moved, tps.size());
  return out;
}

void PartitionStateMachine::OnDeletionsChanged() {
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  zk::Watcher watch;
  if (!deletions_watch_armed_) {
    watch = PostOnChange([this] {
      deletions_watch_armed_ = false;
      if (Acting()) OnDeletionsChanged();
    });
  }
  auto names = zk->GetChildren(zk::kDeleteTopicsPath, watch);
  if (!names.ok()) {
    spdlog::warn("controller: reading {}: {}", zk::kDeleteTopicsPath, names.error().message());
    return;
  }
  if (watch) deletions_watch_armed_ = true;
  for (const std::string& topic : *names) {
    if (!Acting()) return;
    if (!topics_.contains(topic)) {
      // Created and marked before the topics watch told us: read it first.
      Status s = LoadTopic(*zk, topic, nullptr);
      if (!s.ok()) {
        spdlog::warn("controller: reading topic '{}' to delete: {}", topic, s.message());
        continue;
      }
    }
    if (topics_.contains(topic)) {
      DeleteTopic(*zk, topic);
      continue;
    }
    // No such topic: the request is void.
    zk::ZkError e = zk->Multi({EpochCheck(), zk::ZkOp::Delete(zk::DeleteTopicPath(topic), -1)});
    if (!e.ok() && e.code() != ZkCode::kNoNode && !CheckDeposed(*zk)) {
      spdlog::warn("controller: removing the deletion of unknown topic '{}': {}", topic,
                   e.message());
    }
  }
}

void PartitionStateMachine::DeleteTopic(zk::ZkClient& zk, const std::string& topic) {
  spdlog::info("controller: deleting topic '{}'", topic);
  {
    Batch batch(this);
    for (const auto& [p, m] : topics_.at(topic).partitions) {
      PartitionLeaderInfo info = Info({topic, p});
      info.leader = kLeaderDuringDelete;
      batch.UpdateMetadata(std::move(info));
      for (int32_t r : m.replicas) {
        batch.StopReplica(r, StopReplicaPartition{topic, p, kEpochDuringDelete, true});
      }
    }
    batch.Flush();
  }
  Status s = RemoveTopicZnodes(zk, topic);
  if (!s.ok()) {
    // Kept in the model; the admin node stays, so the next activation (or
    // deletion request) tries again.
    spdlog::warn("controller: removing the znodes of topic '{}': {}", topic, s.message());
    return;
  }
  topics_.erase(topic);
}

Status PartitionStateMachine::RemoveTopicZnodes(zk::ZkClient& zk, const std::string& topic) {
  // One transaction, leaves first, behind the epoch check.
  std::vector<zk::ZkOp> ops = {EpochCheck()};
  auto partitions = zk.GetChildren(zk::PartitionsPath(topic));
  if (partitions.ok()) {
    for (const std::string& p : *partitions) {
      const std::string node = zk::PartitionsPath(topic) + "/" + p;
      auto leaves = zk.GetChildren(node);
      if (!leaves.ok()) return Status::IOError(leaves.error().message());
      for (const std::string& leaf : *leaves) ops.push_back(zk::ZkOp::Delete(node + "/" + leaf, -1));
      ops.push_back(zk::ZkOp::Delete(node, -1));
    }
    ops.push_back(zk::ZkOp::Delete(zk::PartitionsPath(topic), -1));
  } else if (partitions.code() != ZkCode::kNoNode) {
    return Status::IOError(partitions.error().message());
  }
  ops.push_back(zk::ZkOp::Delete(zk::TopicPath(topic), -1));
  auto config = zk.Exists(zk::TopicConfigPath(topic));
  if (!config.ok()) return Status::IOError(config.error().message());
  if (config->has_value()) ops.push_back(zk::ZkOp::Delete(zk::TopicConfigPath(topic), -1));
  ops.push_back(zk::ZkOp::Delete(zk::DeleteTopicPath(topic), -1));
  zk::ZkError e = zk.Multi(ops);
  if (e.ok()) return Status::Ok();
  if (CheckDeposed(zk)) return Status::Aborted("another controller took over");
  // Something unexpected under the topic, or a transaction too large: the
  // epoch held a moment ago, so remove them one by one.
  spdlog::info("controller: removing topic '{}' in one transaction failed ({}); one by one",
               topic, e.message());
  for (const std::string& path : {zk::TopicPath(topic), zk::TopicConfigPath(topic),
                                  zk::DeleteTopicPath(topic)}) {
    zk::ZkError d = zk.DeleteRecursive(path);
    if (!d.ok()) return Status::IOError(d.message());
  }
  return Status::Ok();
}

PartitionStateMachine::Applied PartitionStateMachine::Apply(
    zk::ZkClient& zk, const std::vector<TopicPartition>& tps, const Decider& decide) {
  Applied applied;
  auto decide_all = [&](const std::vector<TopicPartition>& which) {
    std::vector<std::pair<TopicPartition, zk::PartitionState>> next;
    for (const TopicPartition& tp : which) {
      std::optional<PartitionModel> m = partition(tp);
      if (!m) continue;
      std::optional<zk::PartitionState> s = decide(tp, *m);
      if (s) next.emplace_back(tp, std::move(*s));
    }
    return next;
  };
  const std::vector<TopicPartition> conflicts = Write(zk, decide_all(tps), &applied);
  if (deposed_ || conflicts.empty()) return applied;
  for (const TopicPartition& tp : conflicts) Reread(zk, tp);
  const auto again = decide_all(conflicts);
  std::set<TopicPartition> redone;
  for (const auto& [tp, s] : again) redone.insert(tp);
  for (const TopicPartition& tp : conflicts) {
    // Already as decided (our write landed though its answer was lost, or
    // another wrote the same): tell the brokers all the same.
    std::optional<PartitionModel> m = partition(tp);
    if (!redone.contains(tp) && m && m->state) {
      applied.written.insert(tp);
      if (m->version == 0) applied.created.insert(tp);
    }
  }
  for (const TopicPartition& tp : Write(zk, again, &applied)) {
    spdlog::warn("controller: {}-{}: its state changed under two decisions in a row; left as is",
                 tp.topic, tp.partition);
    applied.failed.insert(tp);
  }
  return applied;
}

std::vector<TopicPartition> PartitionStateMachine::Write(
    zk::ZkClient& zk, const std::vector<std::pair<TopicPartition, zk::PartitionState>>& next,
    Applied* applied) {
  std::vector<TopicPartition> conflicts;
  auto model = [&](const TopicPartition& tp) -> PartitionModel& {
    return topics_.at(tp.topic).partitions.at(tp.partition);
  };
  auto commit = [&](const TopicPartition& tp, const zk::PartitionState& s) {
    PartitionModel& m = model(tp);
    const bool created = !m.state;
    m.state = s;
    m.version = created ? 0 : m.version + 1;
    applied->written.insert(tp);
    if (created) applied->created.insert(tp);
  };
  // The partitions node of each topic that gets its first states.
  std::set<std::string> parents;
  for (const auto& [tp, s] : next) {
    if (!model(tp).state) parents.insert(tp.topic);
  }
  for (const std::string& topic : parents) {
    zk::ZkError e = zk.CreateRecursive(zk::PartitionsPath(topic));
    if (!e.ok()) spdlog::warn("controller: creating {}: {}", zk::PartitionsPath(topic), e.message());
  }
  for (size_t begin = 0; begin < next.size(); begin += kMaxWritesPerMulti) {
    if (deposed_) break;
    const size_t end = std::min(next.size(), begin + kMaxWritesPerMulti);
    std::vector<zk::ZkOp> ops = {EpochCheck()};
    for (size_t i = begin; i < end; ++i) {
      const auto& [tp, s] = next[i];
      const PartitionModel& m = model(tp);
      if (!m.state) {
        ops.push_back(zk::ZkOp::Create(PartitionNodePath(tp.topic, tp.partition), ""));
        ops.push_back(zk::ZkOp::Create(zk::PartitionStatePath(tp.topic, tp.partition),
                                       zk::EncodePartitionState(s)));
      } else {
        ops.push_back(zk::ZkOp::Set(zk::PartitionStatePath(tp.topic, tp.partition),
                                    zk::EncodePartitionState(s), m.version));
      }
    }
    zk::ZkError e = zk.Multi(ops);
    if (e.ok()) {
      for (size_t i = begin; i < end; ++i) commit(next[i].first, next[i].second);
      continue;
    }
    if (CheckDeposed(zk)) break;
    // Find out which of them failed, one at a time.
    for (size_t i = begin; i < end && !deposed_; ++i) {
      const auto& [tp, s] = next[i];
      switch (WriteOne(zk, tp, s)) {
        case WriteOutcome::kWritten: commit(tp, s); break;
        case WriteOutcome::kConflict: conflicts.push_back(tp); break;
        case WriteOutcome::kFailed: applied->failed.insert(tp); break;
      }
    }
  }
  return conflicts;
}

PartitionStateMachine::WriteOutcome PartitionStateMachine::WriteOne(zk::ZkClient& zk,
                                                                    const TopicPartition& tp,
                                                                    const zk::PartitionState& next) {
  const PartitionModel& m = topics_.at(tp.topic).partitions.at(tp.partition);
  const std::string path = zk::PartitionStatePath(tp.topic, tp.partition);
  const std::string data = zk::EncodePartitionState(next);
  zk::ZkError e;
  if (!m.state) {
    e = zk.Multi({EpochCheck(), zk::ZkOp::Create(PartitionNodePath(tp.topic, tp.partition), ""),
                  zk::ZkOp::Create(path, data)});
    // The partition's node may be there already (made by an earlier
    // controller that stopped before the state): create the state alone.
    if (e.code() == ZkCode::kNodeExists) e = zk.Multi({EpochCheck(), zk::ZkOp::Create(path, data)});
  } else {
    e = zk.Multi({EpochCheck(), zk::ZkOp::Set(path, data, m.version)});
  }
  if (e.ok()) return WriteOutcome::kWritten;
  if (CheckDeposed(zk)) return WriteOutcome::kFailed;
  if (e.code() == ZkCode::kBadVersion || e.code() == ZkCode::kNodeExists ||
      e.code() == ZkCode::kConnectionLoss) {
    return WriteOutcome::kConflict;
  }
  spdlog::warn("controller: writing the state of {}-{}: {}", tp.topic, tp.partition, e.message());
  return WriteOutcome::kFailed;
}

bool PartitionStateMachine::CheckDeposed(zk::ZkClient& zk) {
  if (deposed_) return true;
  auto node = zk.Exists(zk::kControllerEpochPath);
  if (!node.ok() || !node->has_value()) return false;  // Cannot tell; the write failed anyway.
  if ((*node)->version == epoch_.zk_version) return false;
  deposed_ = true;
  spdlog::warn("controller epoch {}: /controller_epoch moved on (version {}, ours {}); another "
               "controller took over, making no more decisions",
               epoch_.epoch, (*node)->version, epoch_.zk_version);
  return true;
}

void PartitionStateMachine::Reread(zk::ZkClient& zk, const TopicPartition& tp) {
  auto t = topics_.find(tp.topic);
  if (t == topics_.end()) return;
  auto p = t->second.partitions.find(tp.partition);
  if (p == t->second.partitions.end()) return;
  auto node = zk.Get(zk::PartitionStatePath(tp.topic, tp.partition));
  if (node.code() == ZkCode::kNoNode) {
    p->second.state.reset();
    p->second.version = -1;
    return;
  }
  if (!node.ok()) return;
  auto decoded = zk::DecodePartitionState(node->data);
  if (!decoded.ok()) return;
  p->second.state = std::move(*decoded);
  p->second.version = node->stat.version;
}

// Partition reassignment (KIP-455): what is decided is in
// controller/reassignment.h; here it is written and told.

std::vector<TopicPartition> PartitionStateMachine::Reassigning() const {
  std::vector<TopicPartition> out;
  for (const auto& [name, topic] : topics_) {
    for (const auto& [p, m] : topic.partitions) {
      if (!m.adding.empty() || !m.removing.empty()) out.push_back({name, p});
    }
  }
  return out;
}

ReassignmentError PartitionStateMachine::Reassign(const TopicPartition& tp,
                                                  const std::optional<std::vector<int32_t>>& target,
                                                  std::string* why) {
  if (!Acting()) return ReassignmentError::kNotController;
  std::optional<PartitionModel> m = partition(tp);
  if (!m || !m->state) {
    *why = "The partition does not exist.";
    return ReassignmentError::kUnknownTopicOrPartition;
  }
  const ReplicaSet current{m->replicas, m->adding, m->removing};
  std::vector<int32_t> trs;
  if (target) {
    ReassignmentError e = ValidateTarget(*target, LiveIds(), why);
    if (e != ReassignmentError::kNone) return e;
    trs = *target;
  } else {
    if (!InProgress(current)) {
      *why = "The partition has no reassignment in progress.";
      return ReassignmentError::kNoReassignmentInProgress;
    }
    trs = OriginalReplicas(current);
  }
  const ReplicaSet next = PlanReassignment(current, trs);
  if (next == current) return ReassignmentError::kNone;
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  Status s = WriteReplicaSet(*zk, EpochCheck(), tp.topic, tp.partition, next);
  if (!s.ok()) {
    if (CheckDeposed(*zk)) return ReassignmentError::kNotController;
    *why = s.message();
    return s.IsNotFound() ? ReassignmentError::kUnknownTopicOrPartition
                          : ReassignmentError::kWriteFailed;
  }
  spdlog::info("controller: {} {}-{}: replicas {} (were {}), adding {}, removing {}",
               target ? "reassigning" : "cancelling the reassignment of", tp.topic, tp.partition,
               next.replicas, current.replicas, next.adding, next.removing);
  PartitionModel& model = topics_.at(tp.topic).partitions.at(tp.partition);
  model.replicas = next.replicas;
  model.adding = next.adding;
  model.removing = next.removing;
  // A new leader epoch: the replicas apply only a newer one, and each must
  // learn RS (the leader, to let the new replicas fetch and join the ISR).
  const Applied applied = Apply(*zk, {tp}, [&](const TopicPartition&, const PartitionModel& pm)
                                               -> std::optional<zk::PartitionState> {
    if (!pm.state) return std::nullopt;
    zk::PartitionState bumped = *pm.state;
    ++bumped.leader_epoch;
    bumped.controller_epoch = epoch_.epoch;
    return bumped;
  });
  if (deposed_) return ReassignmentError::kNotController;
  if (!applied.written.contains(tp)) {
    // The replica set is stored; the next activation tells the replicas.
    spdlog::warn("controller: {}-{}: the leader epoch for the reassignment was not written",
                 tp.topic, tp.partition);
  }
  Batch batch(this);
  batch.Announce(applied);
  CompleteReassignments(*zk, {tp}, batch);
  batch.Flush();
  return ReassignmentError::kNone;
}

void PartitionStateMachine::CompleteReassignments(zk::ZkClient& zk,
                                                  const std::vector<TopicPartition>& tps,
                                                  Batch& batch) {
  if (!Acting()) return;
  auto replica_set = [](const PartitionModel& m) {
    return ReplicaSet{m.replicas, m.adding, m.removing};
  };
  std::vector<TopicPartition> due;
  for (const TopicPartition& tp : tps) {
    std::optional<PartitionModel> m = partition(tp);
    if (m && m->state && InProgress(replica_set(*m))) due.push_back(tp);
  }
  if (due.empty()) return;
  const std::set<int32_t> electable = ElectableIds();
  const Applied applied = Apply(zk, due, [&](const TopicPartition&, const PartitionModel& m)
                                            -> std::optional<zk::PartitionState> {
    const ReplicaSet rs = replica_set(m);
    if (!m.state || !InProgress(rs)) return std::nullopt;
    return DecideReassignmentCompletion(TargetReplicas(rs), *m.state, electable, epoch_.epoch);
  });
  if (deposed_) return;
  for (const TopicPartition& tp : due) {
    if (!applied.written.contains(tp)) continue;
    PartitionModel& m = topics_.at(tp.topic).partitions.at(tp.partition);
    const ReplicaSet rs = replica_set(m);
    const ReplicaSet done{TargetReplicas(rs), {}, {}};
    batch.UpdateMetadata(tp);
    Status s = WriteReplicaSet(zk, EpochCheck(), tp.topic, tp.partition, done);
    if (!s.ok()) {
      if (CheckDeposed(zk)) return;
      // The state is written: the replicas learn it, and the next check
      // (the ISR still holds the target) writes the replica set again.
      spdlog::warn("controller: {}-{}: completing the reassignment: {}", tp.topic, tp.partition,
                   s.message());
      batch.LeaderAndIsr(tp, false);
      continue;
    }
    m.replicas = done.replicas;
    m.adding.clear();
    m.removing.clear();
    batch.LeaderAndIsr(tp, false);
    for (int32_t r : rs.removing) {
      batch.StopReplica(r, StopReplicaPartition{tp.topic, tp.partition, m.state->leader_epoch, true});
    }
    spdlog::info("controller: {}-{} reassigned: replicas {}, leader {}, ISR {}; removed {}",
                 tp.topic, tp.partition, m.replicas, m.state->leader, m.state->isr, rs.removing);
  }
}

}  // namespace sluice::controller
