// Metadata changes never hold up the data path: while a change is stuck in
// its disk work (held at a barrier in the test file system), produces,
// acks=all completions and lookups of other topics go on; the change's
// topic appears only once it is complete. And the metadata thread runs the
// changes in order, off the caller's thread.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "cluster/metadata_worker.h"
#include "cluster/partition_manager.h"
#include "model/record_batch_builder.h"
#include "storage/fault_injection_fs.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

using namespace std::chrono_literals;
using storage::testing::FaultInjectionFileSystem;

config::BrokerConfig DefaultConfig(const testing::TempDir& dir) {
  auto c = config::BrokerConfig::Build({}, "", {"log.dirs=" + dir.path().string()});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

std::vector<uint8_t> Batch() {
  model::RecordBatchBuilder builder(model::RecordBatchOptions{});
  const std::string v = "value";
  builder.Add(1000, std::nullopt, model::Bytes(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
  return builder.Build().value();
}

// Holds every thread that creates or removes a partition directory of
// `topic` until Release(); WaitReached() returns once the first one is held.
class DirectoryBarrier {
 public:
  DirectoryBarrier(FaultInjectionFileSystem& fs, std::string topic)
      : released_(release_.get_future().share()) {
    fs.SetDirectoryHook([this, prefix = topic + "-"](const std::filesystem::path& dir) {
      if (!dir.filename().string().starts_with(prefix)) return;
      std::call_once(reached_once_, [this] { reached_.set_value(); });
      // Bounded: a broken test must not hang the suite.
      (void)released_.wait_for(60s);
    });
  }
  ~DirectoryBarrier() { Release(); }
  bool WaitReached() { return reached_.get_future().wait_for(20s) == std::future_status::ready; }
  void Release() { std::call_once(release_once_, [this] { release_.set_value(); }); }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_;
  std::promise<void> reached_;
  std::once_flag reached_once_;
  std::once_flag release_once_;
};

TEST(MetadataChangeTest, ProduceAndLookupsProceedWhileACreateIsHeldInItsDiskWork) {
  testing::TempDir dir;
  auto config = DefaultConfig(dir);
  FaultInjectionFileSystem fs;
  auto opened = PartitionManager::Open(config, nullptr, &fs);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  PartitionManager& pm = **opened;
  ASSERT_TRUE(pm.CreateTopic("busy", 2, 1, {}, false).ok());

  DirectoryBarrier barrier(fs, "big");
  auto create = std::async(std::launch::async, [&] {
    return pm.CreateTopic("big", 500, 1, {}, false).status();
  });
  ASSERT_TRUE(barrier.WaitReached()) << "the create never reached its disk work";

  // On another thread, so that a lookup blocked behind the create fails the
  // test instead of hanging it.
  auto data_path = std::async(std::launch::async, [&]() -> std::string {
    std::shared_ptr<Partition> p = pm.Get("busy", 1);
    if (!p) return "busy-1 not found";
    std::vector<uint8_t> batch = Batch();
    auto appended = p->Append(batch, -1);
    if (!appended.ok()) return "append: " + appended.status().ToString();
    std::promise<Status> durable;  // What answers an acks=all produce.
    pm.flusher().WhenDurable(p, appended->last_offset + 1, [&](Status s) { durable.set_value(s); });
    auto done = durable.get_future();
    if (done.wait_for(20s) != std::future_status::ready) return "never durable";
    if (Status s = done.get(); !s.ok()) return "durable: " + s.ToString();
    if (!pm.FindTopic("busy")) return "FindTopic(busy) empty";
    if (!pm.TopicConfigOf("busy").ok()) return "TopicConfigOf(busy) failed";
    if (pm.FindTopic("big")) return "big visible before its logs exist";
    if (pm.Get("big", 0)) return "big-0 handed out before its logs exist";
    if (pm.ListTopics().size() != 1) return "ListTopics shows an incomplete topic";
    return "";
  });
  const bool answered = data_path.wait_for(20s) == std::future_status::ready;
  barrier.Release();  // Before any assertion can return.
  ASSERT_TRUE(answered) << "a produce waited for another topic's creation";
  EXPECT_EQ("", data_path.get());
  ASSERT_EQ(std::future_status::ready, create.wait_for(60s));
  EXPECT_TRUE(create.get().ok());
  fs.SetDirectoryHook(nullptr);
  ASSERT_NE(nullptr, pm.Get("big", 499)) << "complete: every partition at once";
  EXPECT_EQ(500, pm.FindTopic("big")->partition_count);
  ASSERT_TRUE(pm.Close().ok());
}

TEST(MetadataChangeTest, ProduceProceedsWhileADeleteIsHeldInItsDiskWork) {
  testing::TempDir dir;
  auto config = DefaultConfig(dir);
  FaultInjectionFileSystem fs;
  auto opened = PartitionManager::Open(config, nullptr, &fs);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  PartitionManager& pm = **opened;
  ASSERT_TRUE(pm.CreateTopic("busy", 1, 1, {}, false).ok());
  ASSERT_TRUE(pm.CreateTopic("doomed", 20, 1, {}, false).ok());

  DirectoryBarrier barrier(fs, "doomed");
  auto del = std::async(std::launch::async, [&] { return pm.DeleteTopic("doomed"); });
  ASSERT_TRUE(barrier.WaitReached()) << "the delete never reached its disk work";
  auto data_path = std::async(std::launch::async, [&]() -> std::string {
    std::shared_ptr<Partition> p = pm.Get("busy", 0);
    if (!p) return "busy-0 not found";
    std::vector<uint8_t> batch = Batch();
    if (!p->Append(batch, -1).ok()) return "append failed";
    if (pm.Get("doomed", 0)) return "doomed-0 handed out after its deletion was recorded";
    if (pm.FindTopic("doomed")) return "doomed listed after its deletion was recorded";
    return "";
  });
  const bool answered = data_path.wait_for(20s) == std::future_status::ready;
  barrier.Release();
  ASSERT_TRUE(answered) << "a produce waited for another topic's deletion";
  EXPECT_EQ("", data_path.get());
  ASSERT_EQ(std::future_status::ready, del.wait_for(60s));
  EXPECT_TRUE(del.get().ok());
  fs.SetDirectoryHook(nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "doomed-0"));
  ASSERT_TRUE(pm.Close().ok());
}

TEST(MetadataWorkerTest, RunsTasksInOrderOffTheSubmittingThreadAndDrainsOnStop) {
  MetadataWorker worker;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<std::thread::id> first_thread;
  std::vector<int> order;  // Written by the worker thread only.
  worker.Submit([&] {
    first_thread.set_value(std::this_thread::get_id());
    (void)released.wait_for(20s);
    order.push_back(1);
  });
  // Submit returned while the first task is blocked: the caller (a network
  // shard) is free.
  worker.Submit([&] { order.push_back(2); });
  auto id = first_thread.get_future();
  ASSERT_EQ(std::future_status::ready, id.wait_for(20s));
  EXPECT_NE(std::this_thread::get_id(), id.get());
  release.set_value();
  worker.Stop();  // Runs what is queued before returning.
  EXPECT_EQ((std::vector<int>{1, 2}), order);
  bool ran_inline = false;
  worker.Submit([&] { ran_inline = true; });
  EXPECT_TRUE(ran_inline) << "after Stop, a task runs at once on the caller's thread";
}

}  // namespace
}  // namespace sluice::cluster
