// Crash at every file operation of a metadata change: creating a topic,
// deleting one, adding partitions. Each change is first run once to count
// its file-system mutations (n); then, for every k in 0..n, a fresh data
// directory gets the same history, the change runs with a crash after its
// k-th mutation (every later one fails, as if the process died), unsynced
// data is dropped, and the broker's state is reopened. Whatever k, each topic
// must be wholly there (every partition log, its data, the configs of the
// table) or wholly absent (no directory left), and the table must agree
// with the directories.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <string>

#include "cluster/partition_manager.h"
#include "model/record_batch_builder.h"
#include "storage/fault_injection_fs.h"
#include "storage/log_manager.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

using namespace std::chrono_literals;
using storage::testing::FaultInjectionFileSystem;

config::BrokerConfig Config(const testing::TempDir& dir) {
  // No background file work that could interleave with the counted change.
  auto c = config::BrokerConfig::Build({}, "",
                                       {"log.dirs=" + dir.path().string(),
                                        "log.cleaner.enable=false",
                                        "sluice.log.preallocate.bytes=0"});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

// Appends `records` one-record batches to topic-partition and waits until
// they are durable.
void WriteDurably(PartitionManager& pm, const std::string& topic, int32_t partition, int records) {
  std::shared_ptr<Partition> p = pm.Get(topic, partition);
  ASSERT_NE(nullptr, p);
  int64_t end = 0;
  for (int i = 0; i < records; ++i) {
    model::RecordBatchBuilder builder(model::RecordBatchOptions{});
    const std::string v = "record" + std::to_string(i);
    builder.Add(1000 + i, std::nullopt,
                model::Bytes(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
    std::vector<uint8_t> batch = builder.Build().value();
    auto appended = p->Append(batch, -1);
    ASSERT_TRUE(appended.ok());
    end = appended->last_offset + 1;
  }
  std::promise<Status> durable;
  pm.flusher().WhenDurable(p, end, [&](Status s) { durable.set_value(s); });
  auto f = durable.get_future();
  ASSERT_EQ(std::future_status::ready, f.wait_for(20s));
  ASSERT_TRUE(f.get().ok());
}

struct Scenario {
  std::string name;
  // Builds the history before the change (through the same file system).
  std::function<void(PartitionManager&)> setup;
  std::function<Status(PartitionManager&)> change;
};

// The partition directories under `dir`, by topic.
std::map<std::string, std::set<int32_t>> PartitionDirs(const std::filesystem::path& dir) {
  std::map<std::string, std::set<int32_t>> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_directory()) continue;
    if (auto tp = storage::TopicPartition::ParseDirName(e.path().filename().string())) {
      out[tp->topic].insert(tp->partition);
    }
  }
  return out;
}

// Reopens the data in `dir` and checks that table, directories, logs and
// configs agree. Returns the topics found, with their partition counts.
std::map<std::string, int32_t> CheckConsistent(const testing::TempDir& dir,
                                               const std::string& context) {
  SCOPED_TRACE(context);
  const config::BrokerConfig config = Config(dir);
  auto pm = PartitionManager::Open(config);
  EXPECT_TRUE(pm.ok()) << pm.status().ToString();
  if (!pm.ok()) return {};
  std::map<std::string, int32_t> topics;
  for (const TopicInfo& info : (*pm)->ListTopics()) {
    topics[info.name] = info.partition_count;
    for (int32_t p = 0; p < info.partition_count; ++p) {
      std::shared_ptr<Partition> partition = (*pm)->Get(info.name, p);
      EXPECT_NE(nullptr, partition) << info.name << "-" << p;
      if (!partition) continue;
      auto resolved = config::ResolveTopicConfig(config, info.configs);
      EXPECT_TRUE(resolved.ok());
      if (!resolved.ok()) continue;
      EXPECT_EQ(ToLogConfig(*resolved).retention_ms, partition->log().config().retention_ms)
          << info.name << "-" << p << ": the log runs with the table's configs";
    }
    EXPECT_EQ(nullptr, (*pm)->Get(info.name, info.partition_count));
  }
  // Every directory belongs to a partition the table knows; every
  // partition the table knows has its directory.
  std::map<std::string, std::set<int32_t>> dirs = PartitionDirs(dir.path());
  for (const auto& [topic, parts] : dirs) {
    auto it = topics.find(topic);
    EXPECT_NE(it, topics.end()) << "directories of absent topic " << topic << " left behind";
    if (it == topics.end()) continue;
    EXPECT_EQ(static_cast<size_t>(it->second), parts.size()) << topic;
    EXPECT_LT(*parts.rbegin(), it->second) << topic;
  }
  for (const auto& [topic, count] : topics) EXPECT_TRUE(dirs.contains(topic)) << topic;
  EXPECT_TRUE((*pm)->Close().ok());
  return topics;
}

// Runs `s.change` after `s.setup` on a fresh directory with a crash after
// `crash_after` mutations (none if nullopt); returns the mutations the
// change made, or checks consistency and returns the topics.
uint64_t CountMutations(const Scenario& s) {
  testing::TempDir dir;
  FaultInjectionFileSystem fs;
  const config::BrokerConfig config = Config(dir);
  auto pm = PartitionManager::Open(config, nullptr, &fs);
  EXPECT_TRUE(pm.ok()) << pm.status().ToString();
  s.setup(**pm);
  const uint64_t before = fs.mutation_count();
  EXPECT_TRUE(s.change(**pm).ok());
  const uint64_t n = fs.mutation_count() - before;
  EXPECT_TRUE((*pm)->Close().ok());
  return n;
}

std::map<std::string, int32_t> CrashAndReopen(const Scenario& s, uint64_t k) {
  testing::TempDir dir;
  {
    FaultInjectionFileSystem fs;
    const config::BrokerConfig config = Config(dir);
    auto pm = PartitionManager::Open(config, nullptr, &fs);
    EXPECT_TRUE(pm.ok()) << pm.status().ToString();
    if (!pm.ok()) return {};
    s.setup(**pm);
    fs.CrashAfter(k);
    (void)s.change(**pm);  // Fails from the crash point on, unless k covers it all.
    pm->reset();           // The process is gone: no clean close reaches the disk.
    fs.ClearCrash();
    EXPECT_TRUE(fs.DropUnsyncedData().ok());
  }
  return CheckConsistent(dir, s.name + ", crash after " + std::to_string(k) + " mutations");
}

void CrashAtEveryMutation(const Scenario& s, const std::map<std::string, int32_t>& before,
                          const std::map<std::string, int32_t>& after) {
  const uint64_t n = CountMutations(s);
  ASSERT_GT(n, 0u);
  int saw_before = 0;
  int saw_after = 0;
  for (uint64_t k = 0; k <= n; ++k) {
    std::map<std::string, int32_t> topics = CrashAndReopen(s, k);
    if (topics == before) {
      ++saw_before;
    } else if (topics == after) {
      ++saw_after;
    } else {
      ADD_FAILURE() << s.name << ", crash after " << k << " of " << n
                    << " mutations: neither the state before the change nor after";
    }
  }
  EXPECT_GT(saw_before, 0) << "a crash early in the change keeps the old state";
  EXPECT_GT(saw_after, 0) << "a crash once the change is recorded keeps the new state";
  EXPECT_EQ(static_cast<int>(n) + 1, saw_before + saw_after);
}

TEST(MetadataCrashTest, CreateTopicIsWhollyThereOrWhollyAbsent) {
  Scenario s{"create",
             [](PartitionManager& pm) {
               ASSERT_TRUE(pm.CreateTopic("old", 1, 1, {}, false).ok());
               WriteDurably(pm, "old", 0, 3);
             },
             [](PartitionManager& pm) {
               return pm.CreateTopic("fresh", 4, 1, {{"retention.ms", "123456"}}, false).status();
             }};
  CrashAtEveryMutation(s, {{"old", 1}}, {{"old", 1}, {"fresh", 4}});
}

TEST(MetadataCrashTest, DeleteTopicIsWhollyThereOrWhollyAbsent) {
  Scenario s{"delete",
             [](PartitionManager& pm) {
               ASSERT_TRUE(pm.CreateTopic("doomed", 3, 1, {{"retention.ms", "654321"}}, false).ok());
               WriteDurably(pm, "doomed", 1, 5);
             },
             [](PartitionManager& pm) { return pm.DeleteTopic("doomed"); }};
  CrashAtEveryMutation(s, {{"doomed", 3}}, {});
}

TEST(MetadataCrashTest, AddedPartitionsAreAllThereOrNone) {
  Scenario s{"create partitions",
             [](PartitionManager& pm) {
               ASSERT_TRUE(pm.CreateTopic("grow", 2, 1, {{"retention.ms", "777777"}}, false).ok());
               WriteDurably(pm, "grow", 1, 4);
             },
             [](PartitionManager& pm) { return pm.CreatePartitions("grow", 5, false); }};
  CrashAtEveryMutation(s, {{"grow", 2}}, {{"grow", 5}});
}

TEST(MetadataCrashTest, DeletedTopicsDataIsKeptWholeOrNeverSeenByItsSuccessor) {
  // A delete that crashes before its record is durable leaves the topic
  // with all its data; a topic created later under the same name (in the
  // crashed run or after the restart) never finds it.
  Scenario s{"delete then re-create",
             [](PartitionManager& pm) {
               ASSERT_TRUE(pm.CreateTopic("t", 1, 1, {}, false).ok());
               WriteDurably(pm, "t", 0, 5);
             },
             [](PartitionManager& pm) {
               SLUICE_RETURN_IF_ERROR(pm.DeleteTopic("t"));
               return pm.CreateTopic("t", 1, 1, {}, false).status();
             }};
  const uint64_t n = CountMutations(s);
  for (uint64_t k = 0; k <= n; ++k) {
    testing::TempDir dir;
    const config::BrokerConfig config = Config(dir);  // Outlives the managers.
    {
      FaultInjectionFileSystem fs;
      auto pm = PartitionManager::Open(config, nullptr, &fs);
      ASSERT_TRUE(pm.ok());
      s.setup(**pm);
      fs.CrashAfter(k);
      (void)s.change(**pm);
      pm->reset();
      fs.ClearCrash();
      ASSERT_TRUE(fs.DropUnsyncedData().ok());
    }
    auto pm = PartitionManager::Open(config);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    std::shared_ptr<Partition> p = (*pm)->Get("t", 0);
    if (!p) {
      // Deleted, not re-created: wholly absent, so a topic created now
      // under the same name starts empty.
      ASSERT_TRUE((*pm)->CreateTopic("t", 1, 1, {}, false).ok());
      p = (*pm)->Get("t", 0);
      ASSERT_NE(nullptr, p);
      EXPECT_EQ(0, p->log().log_end_offset())
          << "crash after " << k << ": a new topic found the deleted one's data";
      continue;
    }
    const int64_t end = p->log().log_end_offset();
    EXPECT_TRUE(end == 5 || end == 0)
        << "crash after " << k << ": the old topic whole (5) or a new empty one (0), got " << end;
  }
}

}  // namespace
}  // namespace sluice::cluster
