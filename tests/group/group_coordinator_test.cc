// The group coordinator on real partition logs in a temporary directory:
// the membership protocol's rules and error codes, sessions and rebalance
// timeouts, committed offsets, and state reloaded from __consumer_offsets.
// Time is moved by hand (ManualTimers for deadlines, a fake wall clock for
// what is stamped and expired): timeouts are tested to the millisecond
// without sleeping.
#include "group/group_coordinator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

#include "cluster/partition_manager.h"
#include "protocol/wire/writer.h"
#include "support/manual_timers.h"
#include "support/temp_dir.h"

namespace sluice::group {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;

// A consumer-protocol subscription (v0) to `topics`.
ByteVector Subscription(const std::vector<std::string>& topics) {
  protocol::Writer out;
  out.WriteInt16(0);
  out.WriteInt32(static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) out.WriteString(t, false);
  out.WriteInt32(-1);  // user data: null
  return out.Take();
}

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = config::BrokerConfig::Build(
        {}, "", {"log.dirs=" + dir_.path().string(), "offsets.topic.num.partitions=3"});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<config::BrokerConfig>(*c);
    auto pm = cluster::PartitionManager::Open(*config_);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    partitions_ = std::move(*pm);
    log_ = std::make_unique<GroupLog>(*partitions_, *config_);
    options_.min_session_timeout_ms = 10;
    options_.initial_rebalance_delay_ms = 0;
    options_.clock = [this] { return wall_ms_.load(); };
    StartCoordinator();
  }

  void TearDown() override {
    if (coordinator_) coordinator_->Shutdown();
    timers_.reset();
    coordinator_.reset();
    if (partitions_) (void)partitions_->Close();
  }

  void StartCoordinator() {
    timers_ = std::make_unique<testing::ManualTimers>();
    coordinator_ = std::make_unique<GroupCoordinator>(options_, *log_, *timers_);
    ASSERT_TRUE(coordinator_->Start().ok());
  }

  // A new coordinator over the same logs, as after a broker restart.
  void RestartCoordinator() {
    coordinator_->Shutdown();
    timers_.reset();
    coordinator_.reset();
    StartCoordinator();
  }

  // Moves both clocks forward by `ms`, running the timers that fall due
  // (the wall clock moves first: those timers see the later wall time).
  void Advance(int64_t ms) {
    wall_ms_ += ms;
    timers_->AdvanceBy(std::chrono::milliseconds(ms));
  }

  // Waits until everything the coordinator wrote to __consumer_offsets so
  // far is durable and the callbacks waiting on that have run: after this,
  // a request no timer can answer and nothing durable is left to answer is
  // known to stay unanswered.
  void Settle() {
    if (!log_->TopicExists()) return;
    for (int32_t i = 0; i < log_->partition_count(); ++i) {
      auto p = partitions_->Get(std::string(kOffsetsTopic), i);
      ASSERT_NE(p, nullptr);
      auto done = std::make_shared<std::promise<Status>>();
      auto f = done->get_future();
      partitions_->flusher().WhenDurable(p, p->log().log_end_offset(),
                                         [done](Status s) { done->set_value(s); });
      ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
      ASSERT_TRUE(f.get().ok());
    }
  }

  JoinParams Params(const std::string& group, const std::string& member = "",
                    int32_t session_ms = 10000, int32_t rebalance_ms = 10000) {
    JoinParams p;
    p.group_id = group;
    p.member_id = member;
    p.client_id = "client";
    p.client_host = "/127.0.0.1";
    p.session_timeout_ms = session_ms;
    p.rebalance_timeout_ms = rebalance_ms;
    p.protocol_type = "consumer";
    p.protocols = {{"range", Subscription({"t"})}};
    return p;
  }

  std::future<JoinGroupResult> JoinAsync(JoinParams p) {
    auto promise = std::make_shared<std::promise<JoinGroupResult>>();
    auto future = promise->get_future();
    coordinator_->JoinGroup(std::move(p), [promise](JoinGroupResult r) { promise->set_value(r); });
    return future;
  }

  JoinGroupResult Join(JoinParams p) {
    auto f = JoinAsync(std::move(p));
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }

  std::future<SyncGroupResult> SyncAsync(const std::string& group, int32_t generation,
                                         const std::string& member,
                                         std::vector<std::pair<std::string, ByteVector>> a = {}) {
    SyncParams p;
    p.group_id = group;
    p.generation_id = generation;
    p.member_id = member;
    p.assignments = std::move(a);
    auto promise = std::make_shared<std::promise<SyncGroupResult>>();
    auto future = promise->get_future();
    coordinator_->SyncGroup(std::move(p), [promise](SyncGroupResult r) { promise->set_value(r); });
    return future;
  }

  // One member alone in `group`, Stable; returns its id and generation.
  std::pair<std::string, int32_t> StableSingleMember(const std::string& group,
                                                     int32_t session_ms = 10000) {
    JoinGroupResult j = Join(Params(group, "", session_ms));
    EXPECT_EQ(j.error, ErrorCode::NONE);
    auto s = SyncAsync(group, j.generation_id, j.member_id, {{j.member_id, {7}}});
    EXPECT_EQ(s.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(s.get().error, ErrorCode::NONE);
    return {j.member_id, j.generation_id};
  }

  std::vector<ErrorCode> Commit(OffsetCommitParams p) {
    std::promise<std::vector<ErrorCode>> promise;
    auto f = promise.get_future();
    coordinator_->CommitOffsets(std::move(p),
                                [&promise](std::vector<ErrorCode> e) { promise.set_value(e); });
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }

  OffsetCommitParams CommitParams(const std::string& group, int64_t offset,
                                  int32_t generation = -1, const std::string& member = "") {
    OffsetCommitParams p;
    p.group_id = group;
    p.generation_id = generation;
    p.member_id = member;
    p.partitions = {{"t", 0, offset, 4, "meta"}};
    return p;
  }

  testing::TempDir dir_;
  std::unique_ptr<config::BrokerConfig> config_;
  std::unique_ptr<cluster::PartitionManager> partitions_;
  std::unique_ptr<GroupLog> log_;
  CoordinatorOptions options_;
  std::atomic<int64_t> wall_ms_{1'700'000'000'000};
  std::unique_ptr<testing::ManualTimers> timers_;
  std::unique_ptr<GroupCoordinator> coordinator_;
};

TEST_F(GroupCoordinatorTest, FirstJoinOfNewClientsAsksForTheMemberIdFirst) {
  JoinParams p = Params("g");
  p.require_known_member_id = true;
  JoinGroupResult first = Join(p);
  EXPECT_EQ(first.error, ErrorCode::MEMBER_ID_REQUIRED);
  ASSERT_FALSE(first.member_id.empty());
  EXPECT_EQ(first.member_id.rfind("client-", 0), 0u) << first.member_id;

  p.member_id = first.member_id;
  JoinGroupResult second = Join(p);
  EXPECT_EQ(second.error, ErrorCode::NONE);
  EXPECT_EQ(second.member_id, first.member_id);
  EXPECT_EQ(second.generation_id, 1);
  EXPECT_EQ(second.leader_id, first.member_id);
  EXPECT_EQ(second.protocol_name, "range");
  ASSERT_EQ(second.members.size(), 1u);
  EXPECT_EQ(coordinator_->DescribeGroup("g").state, GroupState::kCompletingRebalance);
}

TEST_F(GroupCoordinatorTest, LeaderAssignmentReachesEveryMember) {
  auto j1 = JoinAsync(Params("g"));
  auto first = j1.get();  // Alone: completes at once.
  // A second member triggers a rebalance; the first rejoins.
  auto j2 = JoinAsync(Params("g"));
  auto j1b = JoinAsync(Params("g", first.member_id));
  JoinGroupResult a = j1b.get();
  JoinGroupResult b = j2.get();
  ASSERT_EQ(a.error, ErrorCode::NONE);
  ASSERT_EQ(b.error, ErrorCode::NONE);
  EXPECT_EQ(a.generation_id, b.generation_id);
  EXPECT_EQ(a.generation_id, 2);
  const JoinGroupResult& leader = a.member_id == a.leader_id ? a : b;
  const JoinGroupResult& follower = a.member_id == a.leader_id ? b : a;
  EXPECT_EQ(leader.members.size(), 2u);
  EXPECT_TRUE(follower.members.empty());

  auto follower_sync = SyncAsync("g", follower.generation_id, follower.member_id);
  Settle();
  EXPECT_EQ(follower_sync.wait_for(0s), std::future_status::timeout)
      << "a follower must wait for the leader's assignment";
  auto leader_sync = SyncAsync("g", leader.generation_id, leader.member_id,
                               {{leader.member_id, {1}}, {follower.member_id, {2, 2}}});
  EXPECT_EQ(leader_sync.get().assignment, (ByteVector{1}));
  EXPECT_EQ(follower_sync.get().assignment, (ByteVector{2, 2}));

  GroupDescription d = coordinator_->DescribeGroup("g");
  EXPECT_EQ(d.state, GroupState::kStable);
  EXPECT_EQ(d.protocol, "range");
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[0].client_host, "/127.0.0.1");
}

TEST_F(GroupCoordinatorTest, RequestsAreCheckedWithKafkasErrors) {
  EXPECT_EQ(Join(Params("")).error, ErrorCode::INVALID_GROUP_ID);
  EXPECT_EQ(Join(Params("g", "", 5)).error, ErrorCode::INVALID_SESSION_TIMEOUT);
  EXPECT_EQ(Join(Params("nobody", "ghost")).error, ErrorCode::UNKNOWN_MEMBER_ID);
  auto [member, generation] = StableSingleMember("g");
  JoinParams other = Params("g");
  other.protocol_type = "connect";
  EXPECT_EQ(Join(other).error, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
  other = Params("g");
  other.protocols = {{"roundrobin", {}}};
  EXPECT_EQ(Join(other).error, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);

  EXPECT_EQ(coordinator_->Heartbeat("g", generation, member, std::nullopt), ErrorCode::NONE);
  EXPECT_EQ(coordinator_->Heartbeat("g", generation + 1, member, std::nullopt),
            ErrorCode::ILLEGAL_GENERATION);
  EXPECT_EQ(coordinator_->Heartbeat("g", generation, "ghost", std::nullopt),
            ErrorCode::UNKNOWN_MEMBER_ID);
  EXPECT_EQ(coordinator_->Heartbeat("nobody", 1, member, std::nullopt),
            ErrorCode::UNKNOWN_MEMBER_ID);
  EXPECT_EQ(SyncAsync("g", generation + 1, member).get().error, ErrorCode::ILLEGAL_GENERATION);

  auto [top, errors] = coordinator_->LeaveGroup("g", {{"ghost", std::nullopt}, {member, {}}});
  EXPECT_EQ(top, ErrorCode::NONE);
  EXPECT_EQ(errors, (std::vector<ErrorCode>{ErrorCode::UNKNOWN_MEMBER_ID, ErrorCode::NONE}));
  EXPECT_EQ(coordinator_->DescribeGroup("g").state, GroupState::kEmpty);
}

TEST_F(GroupCoordinatorTest, AJoinDuringStableMakesOthersRejoinThroughHeartbeats) {
  auto [member, generation] = StableSingleMember("g");
  auto newcomer = JoinAsync(Params("g"));
  EXPECT_EQ(coordinator_->Heartbeat("g", generation, member, std::nullopt),
            ErrorCode::REBALANCE_IN_PROGRESS);
  Settle();
  EXPECT_EQ(newcomer.wait_for(0s), std::future_status::timeout);
  JoinGroupResult again = Join(Params("g", member));
  EXPECT_EQ(again.generation_id, generation + 1);
  EXPECT_EQ(newcomer.get().generation_id, generation + 1);
}

TEST_F(GroupCoordinatorTest, AMemberThatStopsHeartbeatingIsRemovedExactlyAtItsSessionTimeout) {
  StableSingleMember("g", /*session_ms=*/200);
  Advance(199);
  EXPECT_EQ(coordinator_->DescribeGroup("g").state, GroupState::kStable);
  EXPECT_EQ(coordinator_->DescribeGroup("g").members.size(), 1u);
  Advance(1);
  GroupDescription d = coordinator_->DescribeGroup("g");
  EXPECT_EQ(d.state, GroupState::kEmpty);
  EXPECT_TRUE(d.members.empty());
}

TEST_F(GroupCoordinatorTest, EachHeartbeatRestartsTheSessionTimeout) {
  auto [member, generation] = StableSingleMember("g", /*session_ms=*/200);
  for (int i = 0; i < 5; ++i) {
    Advance(150);
    ASSERT_EQ(coordinator_->Heartbeat("g", generation, member, std::nullopt), ErrorCode::NONE)
        << "after " << (i + 1) * 150 << " ms";
  }
  Advance(199);
  EXPECT_EQ(coordinator_->DescribeGroup("g").members.size(), 1u);
  Advance(1);
  EXPECT_EQ(coordinator_->DescribeGroup("g").state, GroupState::kEmpty);
  EXPECT_EQ(coordinator_->Heartbeat("g", generation, member, std::nullopt),
            ErrorCode::UNKNOWN_MEMBER_ID);
}

TEST_F(GroupCoordinatorTest, MembersThatDoNotRejoinWithinTheRebalanceTimeoutAreDropped) {
  JoinGroupResult first = Join(Params("g", "", 10000, /*rebalance_ms=*/300));
  ASSERT_EQ(SyncAsync("g", first.generation_id, first.member_id).get().error, ErrorCode::NONE);
  // The first member keeps heartbeating but never rejoins.
  auto second = JoinAsync(Params("g", "", 10000, 300));
  Advance(299);
  EXPECT_EQ(coordinator_->Heartbeat("g", first.generation_id, first.member_id, std::nullopt),
            ErrorCode::REBALANCE_IN_PROGRESS);
  Settle();
  EXPECT_EQ(second.wait_for(0s), std::future_status::timeout) << "answered before the timeout";
  Advance(1);
  ASSERT_EQ(second.wait_for(0s), std::future_status::ready);
  JoinGroupResult r = second.get();
  EXPECT_EQ(r.error, ErrorCode::NONE);
  EXPECT_EQ(r.leader_id, r.member_id);
  EXPECT_EQ(r.members.size(), 1u);
  EXPECT_EQ(coordinator_->Heartbeat("g", r.generation_id, first.member_id, std::nullopt),
            ErrorCode::UNKNOWN_MEMBER_ID);
}

TEST_F(GroupCoordinatorTest, StaticMemberRestartKeepsItsAssignmentAndFencesTheOldId) {
  JoinParams p = Params("g");
  p.group_instance_id = "instance-1";
  JoinGroupResult first = Join(p);
  ASSERT_EQ(SyncAsync("g", first.generation_id, first.member_id, {{first.member_id, {9}}})
                .get()
                .error,
            ErrorCode::NONE);
  // Restart: same instance id, no member id. No rebalance: same generation.
  JoinGroupResult again = Join(p);
  EXPECT_EQ(again.error, ErrorCode::NONE);
  EXPECT_NE(again.member_id, first.member_id);
  EXPECT_EQ(again.generation_id, first.generation_id);
  EXPECT_EQ(SyncAsync("g", again.generation_id, again.member_id).get().assignment, (ByteVector{9}));
  EXPECT_EQ(coordinator_->DescribeGroup("g").state, GroupState::kStable);
  EXPECT_EQ(coordinator_->Heartbeat("g", first.generation_id, first.member_id, "instance-1"),
            ErrorCode::FENCED_INSTANCE_ID);
  auto [top, errors] = coordinator_->LeaveGroup("g", {{first.member_id, "instance-1"}});
  EXPECT_EQ(errors.front(), ErrorCode::FENCED_INSTANCE_ID);
}

TEST_F(GroupCoordinatorTest, OffsetCommitChecksGenerationMemberAndMetadataSize) {
  auto [member, generation] = StableSingleMember("g");
  EXPECT_EQ(Commit(CommitParams("g", 5, generation, member)).front(), ErrorCode::NONE);
  EXPECT_EQ(Commit(CommitParams("g", 5, generation + 1, member)).front(),
            ErrorCode::ILLEGAL_GENERATION);
  EXPECT_EQ(Commit(CommitParams("g", 5, generation, "ghost")).front(),
            ErrorCode::UNKNOWN_MEMBER_ID);
  // A standalone commit into a group with members is refused.
  EXPECT_EQ(Commit(CommitParams("g", 5)).front(), ErrorCode::UNKNOWN_MEMBER_ID);
  OffsetCommitParams big = CommitParams("g", 5, generation, member);
  big.partitions[0].metadata = std::string(5000, 'x');
  EXPECT_EQ(Commit(big).front(), ErrorCode::OFFSET_METADATA_TOO_LARGE);
  EXPECT_EQ(Commit(CommitParams("other", 5, 3, "m")).front(), ErrorCode::ILLEGAL_GENERATION);
}

TEST_F(GroupCoordinatorTest, CommittedOffsetsAndGroupsAreReloadedFromTheLog) {
  auto [member, generation] = StableSingleMember("g");
  ASSERT_EQ(Commit(CommitParams("g", 41, generation, member)).front(), ErrorCode::NONE);
  ASSERT_EQ(Commit(CommitParams("g", 42, generation, member)).front(), ErrorCode::NONE);
  ASSERT_EQ(Commit(CommitParams("standalone", 7)).front(), ErrorCode::NONE);

  RestartCoordinator();
  auto [error, offsets] = coordinator_->FetchOffsets("g", std::nullopt);
  EXPECT_EQ(error, ErrorCode::NONE);
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].offset, 42);
  EXPECT_EQ(offsets[0].leader_epoch, 4);
  EXPECT_EQ(offsets[0].metadata, "meta");
  EXPECT_EQ(coordinator_->FetchOffsets("standalone", std::vector<PartitionKey>{{"t", 0}, {"t", 1}})
                .second[1]
                .offset,
            -1);
  // The member is back in its generation and may go on heartbeating.
  GroupDescription d = coordinator_->DescribeGroup("g");
  EXPECT_EQ(d.state, GroupState::kStable);
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].assignment, (ByteVector{7}));
  EXPECT_EQ(coordinator_->Heartbeat("g", generation, member, std::nullopt), ErrorCode::NONE);
}

TEST_F(GroupCoordinatorTest, TheFirstRebalanceWaitsTheInitialDelayWhileMembersArrive) {
  options_.initial_rebalance_delay_ms = 3000;
  RestartCoordinator();
  auto first = JoinAsync(Params("g"));
  Advance(2999);
  auto second = JoinAsync(Params("g"));  // Arrives within the delay: it starts again.
  Advance(1);
  Settle();
  EXPECT_EQ(first.wait_for(0s), std::future_status::timeout);
  Advance(2999);
  EXPECT_EQ(first.wait_for(0s), std::future_status::timeout);
  Advance(1);  // 3000 ms without a newcomer: one generation for both.
  ASSERT_EQ(first.wait_for(0s), std::future_status::ready);
  ASSERT_EQ(second.wait_for(0s), std::future_status::ready);
  JoinGroupResult a = first.get();
  JoinGroupResult b = second.get();
  EXPECT_EQ(a.generation_id, 1);
  EXPECT_EQ(b.generation_id, 1);
  EXPECT_EQ(a.leader_id, b.leader_id);
  EXPECT_EQ((a.member_id == a.leader_id ? a : b).members.size(), 2u);
}

TEST_F(GroupCoordinatorTest, OffsetsOfAnEmptyGroupExpireAtTheFirstCheckPastTheRetention) {
  options_.offsets_retention_check_interval_ms = 60'000;
  RestartCoordinator();
  ASSERT_EQ(Commit(CommitParams("old", 3)).front(), ErrorCode::NONE);
  // The periodic check runs every minute and expires nothing while the
  // commit is younger than offsets.retention, even a millisecond younger.
  Advance(options_.offsets_retention_ms - 60'000);
  EXPECT_EQ(coordinator_->FetchOffsets("old", std::nullopt).second.size(), 1u);
  Advance(59'999);
  EXPECT_EQ(coordinator_->FetchOffsets("old", std::nullopt).second.size(), 1u);
  Advance(1);  // The check at the retention: the offsets go.
  EXPECT_TRUE(coordinator_->FetchOffsets("old", std::nullopt).second.empty());
  EXPECT_TRUE(coordinator_->ListGroups({}).empty());
  Settle();  // The tombstones are durable.
  RestartCoordinator();
  EXPECT_TRUE(coordinator_->FetchOffsets("old", std::nullopt).second.empty());
}

TEST_F(GroupCoordinatorTest, DeleteGroupsOnlyDeletesEmptyGroups) {
  auto [member, generation] = StableSingleMember("busy");
  ASSERT_EQ(Commit(CommitParams("idle", 3)).front(), ErrorCode::NONE);
  std::promise<std::vector<ErrorCode>> promise;
  coordinator_->DeleteGroups({"busy", "idle", "missing"},
                             [&](std::vector<ErrorCode> e) { promise.set_value(e); });
  EXPECT_EQ(promise.get_future().get(),
            (std::vector<ErrorCode>{ErrorCode::NON_EMPTY_GROUP, ErrorCode::NONE,
                                    ErrorCode::GROUP_ID_NOT_FOUND}));
  RestartCoordinator();
  EXPECT_TRUE(coordinator_->FetchOffsets("idle", std::nullopt).second.empty());
  EXPECT_EQ(coordinator_->DescribeGroup("idle").state, GroupState::kDead);
  EXPECT_EQ(coordinator_->DescribeGroup("busy").state, GroupState::kStable);
}

TEST_F(GroupCoordinatorTest, OffsetDeleteRefusesTopicsTheGroupSubscribesTo) {
  auto [member, generation] = StableSingleMember("g");  // Subscribes to "t".
  OffsetCommitParams p = CommitParams("g", 5, generation, member);
  p.partitions.push_back({"u", 0, 6, -1, std::nullopt});
  ASSERT_EQ(Commit(p), (std::vector<ErrorCode>{ErrorCode::NONE, ErrorCode::NONE}));
  std::promise<std::pair<ErrorCode, std::vector<PartitionError>>> promise;
  coordinator_->DeleteOffsets("g", {{"t", 0}, {"u", 0}},
                              [&](ErrorCode e, std::vector<PartitionError> r) {
                                promise.set_value({e, r});
                              });
  auto [error, results] = promise.get_future().get();
  EXPECT_EQ(error, ErrorCode::NONE);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].error, ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC);
  EXPECT_EQ(results[1].error, ErrorCode::NONE);
  auto left = coordinator_->FetchOffsets("g", std::nullopt).second;
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].topic, "t");
}

TEST_F(GroupCoordinatorTest, ListGroupsFiltersByState) {
  StableSingleMember("stable");
  ASSERT_EQ(Commit(CommitParams("empty", 1)).front(), ErrorCode::NONE);
  EXPECT_EQ(coordinator_->ListGroups({}).size(), 2u);
  auto stable = coordinator_->ListGroups({GroupState::kStable});
  ASSERT_EQ(stable.size(), 1u);
  EXPECT_EQ(stable[0].group_id, "stable");
  EXPECT_EQ(stable[0].protocol_type, "consumer");
  EXPECT_EQ(ParseGroupState("preparingrebalance"), GroupState::kPreparingRebalance);
}

TEST_F(GroupCoordinatorTest, ShutdownAnswersWaitingJoins) {
  auto [member, generation] = StableSingleMember("g");
  auto waiting = JoinAsync(Params("g"));  // Waits for the first member to rejoin.
  Settle();
  ASSERT_EQ(waiting.wait_for(0s), std::future_status::timeout);
  coordinator_->Shutdown();
  ASSERT_EQ(waiting.wait_for(0s), std::future_status::ready) << "answered by Shutdown itself";
  EXPECT_EQ(waiting.get().error, ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(Join(Params("g")).error, ErrorCode::NOT_COORDINATOR);
}

// In a cluster the coordinator serves only the groups of the
// __consumer_offsets partitions this broker leads: it loads a partition's
// groups when told it leads it, and drops them when told it does not.
class ClusterGroupCoordinatorTest : public GroupCoordinatorTest {
 protected:
  void SetUp() override {
    GroupCoordinatorTest::SetUp();
    if (HasFatalFailure()) return;
    // The partitions exist here as a cluster's hosted replicas would.
    ASSERT_TRUE(log_->EnsureTopic().ok());
    coordinator_->Shutdown();
    timers_.reset();
    coordinator_.reset();
    log_->SetClusterPartitionCount([] { return 3; });
    StartCoordinator();
  }

  // A group id whose offsets partition is `index`.
  static std::string GroupIn(int32_t index, const std::string& prefix) {
    for (int i = 0;; ++i) {
      std::string id = prefix + std::to_string(i);
      if (OffsetsPartitionFor(id, 3) == index) return id;
    }
  }
};

TEST_F(ClusterGroupCoordinatorTest, GroupsOfPartitionsNotLedHereAreRefusedWithNotCoordinator) {
  const std::string group = GroupIn(1, "g");
  EXPECT_EQ(Join(Params(group)).error, ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(coordinator_->Heartbeat(group, 1, "m", std::nullopt), ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(Commit(CommitParams(group, 5)).front(), ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(coordinator_->FetchOffsets(group, std::nullopt).first, ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(coordinator_->DescribeGroup(group).error, ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(coordinator_->LeaveGroup(group, {{"m", std::nullopt}}).first,
            ErrorCode::NOT_COORDINATOR);

  coordinator_->OnLeadership(0, /*is_leader=*/true);
  EXPECT_EQ(Join(Params(group)).error, ErrorCode::NOT_COORDINATOR);  // still not partition 1
  const std::string led = GroupIn(0, "g");
  EXPECT_TRUE(coordinator_->Serves(led));
  EXPECT_FALSE(coordinator_->Serves(group));
  auto [member, generation] = StableSingleMember(led);
  EXPECT_EQ(Commit(CommitParams(led, 9, generation, member)).front(), ErrorCode::NONE);
}

TEST_F(ClusterGroupCoordinatorTest, LeadingAPartitionLoadsItsGroupsAndLosingItUnloadsThem) {
  const std::string group = GroupIn(2, "g");
  const std::string standalone = GroupIn(2, "s");
  coordinator_->OnLeadership(2, /*is_leader=*/true);
  auto [member, generation] = StableSingleMember(group);
  ASSERT_EQ(Commit(CommitParams(group, 41, generation, member)).front(), ErrorCode::NONE);
  ASSERT_EQ(Commit(CommitParams(standalone, 7)).front(), ErrorCode::NONE);

  // A member waiting on a rebalance when leadership goes is told to find
  // the new coordinator.
  auto waiting = JoinAsync(Params(group));
  coordinator_->OnLeadership(2, /*is_leader=*/false);
  ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waiting.get().error, ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(coordinator_->FetchOffsets(group, std::nullopt).first, ErrorCode::NOT_COORDINATOR);
  EXPECT_EQ(coordinator_->Heartbeat(group, generation, member, std::nullopt),
            ErrorCode::NOT_COORDINATOR);
  EXPECT_TRUE(coordinator_->ListGroups({}).empty());

  // Leading again: the partition is replayed, groups and offsets are back.
  coordinator_->OnLeadership(2, /*is_leader=*/true);
  auto [error, offsets] = coordinator_->FetchOffsets(group, std::nullopt);
  EXPECT_EQ(error, ErrorCode::NONE);
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].offset, 41);
  EXPECT_EQ(coordinator_->FetchOffsets(standalone, std::nullopt).second.at(0).offset, 7);
  GroupDescription d = coordinator_->DescribeGroup(group);
  EXPECT_EQ(d.state, GroupState::kStable);
  EXPECT_EQ(coordinator_->Heartbeat(group, generation, member, std::nullopt), ErrorCode::NONE);
}

TEST_F(ClusterGroupCoordinatorTest, ACommitToAPartitionThatLostItsLeadershipIsNotCoordinator) {
  const std::string group = GroupIn(0, "g");
  coordinator_->OnLeadership(0, /*is_leader=*/true);
  ASSERT_EQ(Commit(CommitParams(group, 3)).front(), ErrorCode::NONE);
  // The replica stops leading before the coordinator hears of it.
  auto p = partitions_->Get(std::string(kOffsetsTopic), 0);
  ASSERT_NE(p, nullptr);
  p->BecomeFollower(/*leader_id=*/7, p->leader_epoch() + 1, /*partition_epoch=*/1);
  EXPECT_EQ(Commit(CommitParams(group, 4)).front(), ErrorCode::NOT_COORDINATOR);
}

}  // namespace
}  // namespace sluice::group
