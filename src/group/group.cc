#include "group/group.h"

#include <algorithm>

namespace sluice::group {

const ByteVector* Member::MetadataFor(std::string_view protocol) const {
  for (const ProtocolMetadata& p : protocols) {
    if (p.name == protocol) return &p.metadata;
  }
  return nullptr;
}

void Group::TransitionTo(GroupState s, int64_t now_ms) {
  state_ = s;
  state_timestamp_ms_ = now_ms;
}

Member* Group::Find(std::string_view member_id) {
  auto it = members_.find(member_id);
  return it == members_.end() ? nullptr : &it->second;
}

const Member* Group::Find(std::string_view member_id) const {
  auto it = members_.find(member_id);
  return it == members_.end() ? nullptr : &it->second;
}

std::optional<std::string> Group::MemberOfInstance(const std::string& instance_id) const {
  auto it = static_members_.find(instance_id);
  if (it == static_members_.end()) return std::nullopt;
  return it->second;
}

void Group::Add(Member member) {
  if (members_.empty()) protocol_type_ = member.protocol_type;
  if (!leader_) leader_ = member.member_id;
  if (member.group_instance_id) static_members_[*member.group_instance_id] = member.member_id;
  order_.push_back(member.member_id);
  std::string id = member.member_id;
  members_.emplace(std::move(id), std::move(member));
}

void Group::Remove(std::string_view member_id) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  if (it->second.group_instance_id) {
    auto s = static_members_.find(*it->second.group_instance_id);
    if (s != static_members_.end() && s->second == member_id) static_members_.erase(s);
  }
  members_.erase(it);
  order_.erase(std::find(order_.begin(), order_.end(), member_id));
  if (IsLeader(member_id)) {
    leader_.reset();
    if (!order_.empty()) leader_ = order_.front();
  }
}

void Group::ReplaceStaticMember(const std::string& old_id, const std::string& new_id) {
  auto node = members_.extract(old_id);
  if (node.empty()) return;
  node.key() = new_id;
  node.mapped().member_id = new_id;
  if (node.mapped().group_instance_id) static_members_[*node.mapped().group_instance_id] = new_id;
  members_.insert(std::move(node));
  std::replace(order_.begin(), order_.end(), old_id, new_id);
  if (IsLeader(old_id)) leader_ = new_id;
}

bool Group::SupportsProtocols(std::string_view protocol_type,
                              const std::vector<ProtocolMetadata>& protocols) const {
  if (protocol_type.empty() || protocols.empty()) return false;
  if (members_.empty()) return true;
  if (!protocol_type_ || *protocol_type_ != protocol_type) return false;
  return std::any_of(protocols.begin(), protocols.end(),
                     [&](const ProtocolMetadata& p) { return EveryMemberSupports(p.name); });
}

bool Group::EveryMemberSupports(std::string_view protocol) const {
  return std::all_of(members_.begin(), members_.end(), [&](const auto& m) {
    return m.second.MetadataFor(protocol) != nullptr;
  });
}

bool Group::AllMembersJoined() const {
  return pending_.empty() && AwaitingJoinCount() == members_.size();
}

size_t Group::AwaitingJoinCount() const {
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(), [](const auto& m) {
    return static_cast<bool>(m.second.awaiting_join);
  }));
}

int32_t Group::MaxRebalanceTimeoutMs() const {
  int32_t max = 0;
  for (const auto& [id, m] : members_) max = std::max(max, m.rebalance_timeout_ms);
  return max;
}

std::string Group::SelectProtocol() const {
  // Candidates: protocols every member supports, in the first member's
  // order of preference (which also breaks ties between equal votes).
  const Member& first = members_.at(order_.front());
  std::vector<std::string> candidates;
  for (const ProtocolMetadata& p : first.protocols) {
    if (EveryMemberSupports(p.name)) candidates.push_back(p.name);
  }
  if (candidates.empty()) return first.protocols.empty() ? "" : first.protocols.front().name;
  // Each member votes for the first candidate in its own preference list.
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members_) {
    for (const ProtocolMetadata& p : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const std::string& c : candidates) {
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

void Group::InitNextGeneration(int64_t now_ms) {
  ++generation_;
  if (!members_.empty()) {
    protocol_name_ = SelectProtocol();
    TransitionTo(GroupState::kCompletingRebalance, now_ms);
  } else {
    protocol_name_.reset();
    TransitionTo(GroupState::kEmpty, now_ms);
  }
}

std::vector<JoinGroupResult::Member> Group::CurrentMemberMetadata() const {
  std::vector<JoinGroupResult::Member> out;
  for (const std::string& id : order_) {
    const Member& m = members_.at(id);
    const ByteVector* metadata = protocol_name_ ? m.MetadataFor(*protocol_name_) : nullptr;
    out.push_back({m.member_id, m.group_instance_id, metadata ? *metadata : ByteVector{}});
  }
  return out;
}

void Group::LoadFrom(const StoredGroup& stored, int64_t now_ms) {
  members_.clear();
  order_.clear();
  static_members_.clear();
  leader_.reset();
  generation_ = stored.generation;
  protocol_type_ = stored.protocol_type;
  protocol_name_ = stored.protocol;
  for (const StoredMember& s : stored.members) {
    Member m;
    m.member_id = s.member_id;
    m.group_instance_id = s.group_instance_id;
    m.client_id = s.client_id;
    m.client_host = s.client_host;
    m.rebalance_timeout_ms = s.rebalance_timeout_ms;
    m.session_timeout_ms = s.session_timeout_ms;
    m.protocol_type = stored.protocol_type;
    if (stored.protocol) m.protocols.push_back({*stored.protocol, s.subscription});
    m.assignment = s.assignment;
    Add(std::move(m));
  }
  if (stored.leader && Find(*stored.leader) != nullptr) leader_ = stored.leader;
  TransitionTo(members_.empty() ? GroupState::kEmpty : GroupState::kStable,
               stored.state_timestamp_ms > 0 ? stored.state_timestamp_ms : now_ms);
}

StoredGroup Group::ToStored() const {
  StoredGroup s;
  s.protocol_type = protocol_type_.value_or("");
  s.generation = generation_;
  s.protocol = protocol_name_;
  s.leader = leader_;
  s.state_timestamp_ms = state_timestamp_ms_;
  for (const std::string& id : order_) {
    const Member& m = members_.at(id);
    StoredMember sm;
    sm.member_id = m.member_id;
    sm.group_instance_id = m.group_instance_id;
    sm.client_id = m.client_id;
    sm.client_host = m.client_host;
    sm.rebalance_timeout_ms = m.rebalance_timeout_ms;
    sm.session_timeout_ms = m.session_timeout_ms;
    if (const ByteVector* md = protocol_name_ ? m.MetadataFor(*protocol_name_) : nullptr) {
      sm.subscription = *md;
    }
    sm.assignment = m.assignment;
    s.members.push_back(std::move(sm));
  }
  return s;
}

}  // namespace sluice::group
