// Consumer groups on the real broker, driven by librdkafka members: how
// partitions are shared, what happens when members leave, crash, restart
// (static membership) or rebalance cooperatively, and that committed
// offsets survive a broker restart.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "api/group_member.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"
#include "support/temp_dir.h"

extern char** environ;

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

class GroupTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }

  void StartBroker(std::vector<std::string> overrides = {}) {
    BrokerProcessOptions options;
    options.log_dir = data_.path();
    // Members of these tests join together; no need to wait for more.
    options.overrides = {"group.initial.rebalance.delay.ms=0"};
    options.overrides.insert(options.overrides.end(), overrides.begin(), overrides.end());
    Status s = broker_.Start(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    bootstrap_ = broker_.host() + ":" + std::to_string(broker_.port());
    client_ = std::make_unique<KafkaClient>(bootstrap_);
  }

  // Stops the broker, which must exit 0 in time; its output says why not.
  void StopBroker() {
    Result<int> code = broker_.Stop();
    ASSERT_TRUE(code.ok()) << code.status().ToString() << "\n" << broker_.output();
    ASSERT_EQ(*code, 0) << broker_.output();
  }

  void CreateTopic(const std::string& topic, int partitions) {
    ASSERT_EQ(client_->CreateTopic(topic, partitions), 0);
  }

  // Produces `n` messages round-robin over `partitions` and waits for them.
  void Produce(const std::string& topic, int partitions, int n) {
    auto producer = client_->MakeProducer();
    for (int i = 0; i < n; ++i) {
      DeliveryResult r =
          ProduceSync(*producer, topic, i % partitions, std::nullopt, "m" + std::to_string(i));
      ASSERT_EQ(r.err, RdKafka::ERR_NO_ERROR) << "message " << i;
    }
  }

  std::unique_ptr<GroupMember> Join(const std::string& group, const std::string& topic,
                                    std::map<std::string, std::string> conf = {}) {
    return std::make_unique<GroupMember>(bootstrap_, group, topic, conf);
  }

  TempDir data_;
  BrokerProcess broker_;
  std::string bootstrap_;
  std::unique_ptr<KafkaClient> client_;
};

using Members = std::vector<GroupMember*>;

// True when the members' partitions are disjoint and cover [0, partitions).
bool SharedExactly(const Members& members, int partitions) {
  std::multiset<int32_t> all;
  for (GroupMember* m : members) {
    for (int32_t p : m->owned()) all.insert(p);
  }
  if (all.size() != static_cast<size_t>(partitions)) return false;
  for (int p = 0; p < partitions; ++p) {
    if (all.count(p) != 1) return false;
  }
  return true;
}

std::string Describe(const Members& members) {
  std::string out;
  for (size_t i = 0; i < members.size(); ++i) {
    out += " member" + std::to_string(i) + "=[";
    for (int32_t p : members[i]->owned()) out += std::to_string(p) + ",";
    out += "]";
  }
  return out;
}

TEST_F(GroupTest, ThreeMembersOnSixPartitionsGetTwoEachAndTakeOverWhenOneLeaves) {
  CreateTopic("six", 6);
  auto a = Join("g", "six");
  auto b = Join("g", "six");
  auto c = Join("g", "six");
  Members all = {a.get(), b.get(), c.get()};
  ASSERT_TRUE(WaitUntil(
      [&] {
        return SharedExactly(all, 6) && a->owned().size() == 2 && b->owned().size() == 2 &&
               c->owned().size() == 2;
      },
      30s))
      << Describe(all);

  c->Close();  // LeaveGroup: the others rebalance at once.
  Members left = {a.get(), b.get()};
  ASSERT_TRUE(WaitUntil(
      [&] { return SharedExactly(left, 6) && a->owned().size() == 3 && b->owned().size() == 3; },
      20s))
      << Describe(left);
}

TEST_F(GroupTest, FiveMembersOnThreePartitionsLeaveTwoIdle) {
  CreateTopic("three", 3);
  std::vector<std::unique_ptr<GroupMember>> members;
  Members all;
  for (int i = 0; i < 5; ++i) {
    members.push_back(Join("g5", "three"));
    all.push_back(members.back().get());
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (!SharedExactly(all, 3)) return false;
        return std::count_if(all.begin(), all.end(),
                             [](GroupMember* m) { return m->owned().empty(); }) == 2;
      },
      30s))
      << Describe(all);
  // Messages reach only the owners, each exactly once.
  Produce("three", 3, 90);
  ASSERT_TRUE(WaitUntil(
      [&] {
        size_t n = 0;
        for (GroupMember* m : all) n += m->message_count();
        return n >= 90;
      },
      20s));
  std::set<std::pair<int32_t, int64_t>> seen;
  for (GroupMember* m : all) {
    const auto owned = m->owned();
    for (const auto& msg : m->messages()) {
      EXPECT_TRUE(owned.count(msg.partition)) << "a member read a partition it does not own";
      EXPECT_TRUE(seen.insert({msg.partition, msg.offset}).second) << "read twice";
    }
  }
  EXPECT_EQ(seen.size(), 90u);
}

TEST_F(GroupTest, KilledMemberPartitionsMoveAfterItsSessionTimeout) {
  CreateTopic("crash", 6);
  auto a = Join("gk", "crash");
  auto b = Join("gk", "crash");
  // A third member in its own process (kcat, librdkafka's CLI), killed
  // with SIGKILL: it cannot say goodbye, only stop heartbeating.
  const std::string session = "session.timeout.ms=6000";
  std::vector<std::string> args = {"kcat", "-b", bootstrap_, "-G", "gk", "-X", session,
                                   "-X", "heartbeat.interval.ms=500", "-q", "-o", "end", "crash"};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t kcat = -1;
  ASSERT_EQ(posix_spawnp(&kcat, "kcat", &actions, nullptr, argv.data(), environ), 0)
      << "kcat is needed (scripts/install-deps.sh installs it)";
  posix_spawn_file_actions_destroy(&actions);

  Members in_process = {a.get(), b.get()};
  // Three members: the two here own four partitions, kcat the other two.
  bool three_way = WaitUntil(
      [&] {
        std::set<int32_t> owned;
        for (GroupMember* m : in_process) {
          for (int32_t p : m->owned()) owned.insert(p);
        }
        return owned.size() == 4 && a->owned().size() == 2 && b->owned().size() == 2;
      },
      30s);
  if (!three_way) {
    kill(kcat, SIGKILL);
    waitpid(kcat, nullptr, 0);
    FAIL() << "the kcat member never got its share:" << Describe(in_process);
  }
  const auto killed_at = std::chrono::steady_clock::now();
  kill(kcat, SIGKILL);
  waitpid(kcat, nullptr, 0);
  ASSERT_TRUE(WaitUntil([&] { return SharedExactly(in_process, 6); }, 30s))
      << Describe(in_process);
  const auto moved_after = std::chrono::steady_clock::now() - killed_at;
  // Nothing told the coordinator before the session expired.
  EXPECT_GE(moved_after, 4s) << "partitions moved before the session timeout";
}

TEST_F(GroupTest, TwoGroupsEachReadEveryMessage) {
  CreateTopic("shared", 4);
  Produce("shared", 4, 200);
  auto g1 = Join("first", "shared");
  auto g2 = Join("second", "shared");
  ASSERT_TRUE(WaitUntil([&] { return g1->message_count() >= 200 && g2->message_count() >= 200; },
                        30s))
      << g1->message_count() << " and " << g2->message_count();
  for (GroupMember* m : {g1.get(), g2.get()}) {
    std::set<std::pair<int32_t, int64_t>> seen;
    for (const auto& msg : m->messages()) seen.insert({msg.partition, msg.offset});
    EXPECT_EQ(seen.size(), 200u);
    EXPECT_EQ(m->messages().size(), 200u);
  }
}

TEST_F(GroupTest, CommittedOffsetsSurviveABrokerRestart) {
  CreateTopic("resume", 3);
  Produce("resume", 3, 300);
  std::map<int32_t, int64_t> commit = {{0, 40}, {1, 50}, {2, 60}};  // 150 of 300
  {
    auto m = Join("gr", "resume");
    ASSERT_TRUE(WaitUntil([&] { return m->message_count() >= 300; }, 30s));
    ASSERT_EQ(m->Commit("resume", commit), RdKafka::ERR_NO_ERROR);
    EXPECT_EQ(m->Committed("resume", 3), commit);
    m->Close();
  }
  ASSERT_NO_FATAL_FAILURE(StopBroker());
  StartBroker();

  auto m = Join("gr", "resume");
  // Each partition holds offsets 0..99; once the member has read offset 99
  // of every one, it has everything it will ever get.
  auto read_to_the_end = [&] {
    std::set<int32_t> ended;
    for (const auto& msg : m->messages()) {
      if (msg.offset == 99) ended.insert(msg.partition);
    }
    return ended.size() == 3;
  };
  ASSERT_TRUE(WaitUntil(read_to_the_end, 30s)) << m->message_count();
  auto messages = m->messages();
  EXPECT_EQ(messages.size(), 150u);
  for (const auto& msg : messages) {
    EXPECT_GE(msg.offset, commit[msg.partition]) << "partition " << msg.partition;
  }
  EXPECT_EQ(m->Committed("resume", 3), commit);
}

TEST_F(GroupTest, CommittedOffsetsSurviveKillMinus9) {
  CreateTopic("durable", 2);
  Produce("durable", 2, 20);
  {
    auto m = Join("gd", "durable");
    ASSERT_TRUE(WaitUntil([&] { return m->message_count() >= 20; }, 30s));
    ASSERT_EQ(m->Commit("durable", {{0, 7}, {1, 9}}), RdKafka::ERR_NO_ERROR);
    m->Close();
  }
  broker_.Kill();  // An acknowledged commit is on disk.
  StartBroker();
  auto m = Join("gd", "durable");
  EXPECT_EQ(m->Committed("durable", 2), (std::map<int32_t, int64_t>{{0, 7}, {1, 9}}));
}

TEST_F(GroupTest, ClientsCannotWriteTheCoordinatorsTopic) {
  CreateTopic("t", 1);
  {
    auto m = Join("gw", "t");
    ASSERT_EQ(m->Commit("t", {{0, 0}}), RdKafka::ERR_NO_ERROR);  // __consumer_offsets exists.
  }
  auto producer = client_->MakeProducer();
  DeliveryResult r = ProduceSync(*producer, "__consumer_offsets", 0, "forged", "forged");
  EXPECT_EQ(r.err, RdKafka::ERR_TOPIC_EXCEPTION);
}

// Bytes of the .log files of one partition directory.
uint64_t LogBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") total += entry.file_size();
  }
  return total;
}

TEST_F(GroupTest, TheCleanerCompactsCommittedOffsets) {
  // Small segments and an eager cleaner, so that a few hundred commits
  // make closed segments to compact.
  const std::vector<std::string> overrides = {
      "offsets.topic.num.partitions=1", "offsets.topic.segment.bytes=4096",
      "log.cleaner.backoff.ms=100", "log.cleaner.min.compaction.lag.ms=0"};
  ASSERT_NO_FATAL_FAILURE(StopBroker());
  StartBroker(overrides);
  CreateTopic("t", 2);
  const std::filesystem::path offsets_dir = data_.path() / "__consumer_offsets-0";
  {
    auto m = Join("gc", "t");
    // Commits are refused while the group is still completing its rebalance.
    ASSERT_TRUE(WaitUntil([&] { return m->owned().size() == 2; }, 30s));
    for (int i = 1; i <= 400; ++i) {
      ASSERT_EQ(m->Commit("t", {{0, i}, {1, 2 * i}}), RdKafka::ERR_NO_ERROR) << i;
    }
    m->Close();
  }
  const uint64_t written = 400 * 2 * 60;  // At least ~60 bytes per committed offset.
  EXPECT_TRUE(WaitUntil([&] { return LogBytes(offsets_dir) < written / 4; }, 30s))
      << "__consumer_offsets-0 holds " << LogBytes(offsets_dir) << " bytes";
  ASSERT_NO_FATAL_FAILURE(StopBroker());
  StartBroker(overrides);
  auto m = Join("gc", "t");
  EXPECT_EQ(m->Committed("t", 2), (std::map<int32_t, int64_t>{{0, 400}, {1, 800}}));
}

TEST_F(GroupTest, StaticMemberRestartGetsItsPartitionsBackWithoutARebalance) {
  CreateTopic("static", 4);
  const std::map<std::string, std::string> a_conf = {{"group.instance.id", "instance-a"},
                                                     {"session.timeout.ms", "20000"}};
  const std::map<std::string, std::string> b_conf = {{"group.instance.id", "instance-b"},
                                                     {"session.timeout.ms", "20000"}};
  auto a = Join("gs", "static", a_conf);
  auto b = Join("gs", "static", b_conf);
  Members both = {a.get(), b.get()};
  ASSERT_TRUE(WaitUntil(
      [&] { return SharedExactly(both, 4) && a->owned().size() == 2 && b->owned().size() == 2; },
      30s))
      << Describe(both);
  // Restart a: a static member does not leave the group on close, and
  // comes back under the same instance id. The coordinator decides on the
  // rejoin itself whether it rebalances, and says so in its log, before a
  // gets its partitions back: counting those lines needs no waiting.
  auto rebalances = [&] {
    const std::string out = broker_.output();
    const std::string line = "group gs: preparing rebalance";
    size_t n = 0;
    for (size_t at = out.find(line); at != std::string::npos; at = out.find(line, at + 1)) ++n;
    return n;
  };
  const size_t rebalances_before = rebalances();
  const std::set<int32_t> a_before = a->owned();
  a->Close();
  a = Join("gs", "static", a_conf);
  ASSERT_TRUE(WaitUntil([&] { return a->owned() == a_before; }, 20s))
      << "restarted static member got" << Describe({a.get()});
  EXPECT_TRUE(broker_.WaitForOutput("static member instance-a rejoined", 5s)) << broker_.output();
  EXPECT_EQ(rebalances(), rebalances_before) << broker_.output();
  EXPECT_EQ(b->owned().size(), 2u);
}

TEST_F(GroupTest, CooperativeStickyMovesOnlyWhatMustMove) {
  CreateTopic("coop", 6);
  const std::map<std::string, std::string> conf = {
      {"partition.assignment.strategy", "cooperative-sticky"}};
  auto a = Join("gc", "coop", conf);
  auto b = Join("gc", "coop", conf);
  Members two = {a.get(), b.get()};
  ASSERT_TRUE(WaitUntil(
      [&] { return SharedExactly(two, 6) && a->owned().size() == 3 && b->owned().size() == 3; },
      30s))
      << Describe(two);
  const std::set<int32_t> a_before = a->owned();
  const std::set<int32_t> b_before = b->owned();
  const size_t a_events = a->events().size();
  const size_t b_events = b->events().size();

  auto c = Join("gc", "coop", conf);
  Members three = {a.get(), b.get(), c.get()};
  ASSERT_TRUE(WaitUntil(
      [&] {
        return SharedExactly(three, 6) && a->owned().size() == 2 && b->owned().size() == 2 &&
               c->owned().size() == 2;
      },
      30s))
      << Describe(three);
  // Incremental: a and b only ever gave up what c took; nothing they kept
  // was revoked and given back.
  for (auto [m, before, from] :
       {std::tuple{a.get(), a_before, a_events}, std::tuple{b.get(), b_before, b_events}}) {
    std::set<int32_t> revoked;
    auto events = m->events();
    for (size_t i = from; i < events.size(); ++i) {
      if (!events[i].assigned) revoked.insert(events[i].partitions.begin(), events[i].partitions.end());
    }
    std::set<int32_t> kept = m->owned();
    for (int32_t p : kept) EXPECT_TRUE(before.count(p)) << "gained partition " << p;
    EXPECT_EQ(revoked.size() + kept.size(), before.size()) << "revoked more than it lost";
  }
}

}  // namespace
}  // namespace sluice::testing
