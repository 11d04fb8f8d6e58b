#include "cluster/partition_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <thread>

#include "metrics/registry.h"
#include "model/record_batch_builder.h"
#include "support/temp_dir.h"

namespace sluice::cluster {
namespace {

using namespace std::chrono_literals;

config::BrokerConfig Config(const testing::TempDir& dir, std::vector<std::string> overrides = {}) {
  overrides.push_back("log.dirs=" + dir.path().string());
  auto c = config::BrokerConfig::Build({}, "", overrides);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

std::vector<uint8_t> Batch(int records, int64_t producer_id = -1, int32_t sequence = -1) {
  model::RecordBatchOptions options;
  options.producer_id = producer_id;
  options.producer_epoch = producer_id >= 0 ? 0 : -1;
  options.base_sequence = sequence;
  model::RecordBatchBuilder builder(options);
  for (int i = 0; i < records; ++i) {
    std::string v = "value" + std::to_string(i);
    builder.Add(1000 + i, std::nullopt,
                model::Bytes(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
  }
  auto built = builder.Build();
  EXPECT_TRUE(built.ok());
  return *built;
}

TEST(PartitionManagerTest, TopicsAndTheirDataSurviveReopen) {
  testing::TempDir dir;
  auto config = Config(dir);
  {
    auto pm = PartitionManager::Open(config);
    ASSERT_TRUE(pm.ok()) << pm.status().ToString();
    auto created = (*pm)->CreateTopic("orders", 3, 1, {{"retention.ms", "1000000"}}, false);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    auto p = (*pm)->Get("orders", 2);
    ASSERT_NE(nullptr, p);
    auto batch = Batch(5);
    auto out = p->Append(batch, -1);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(0, out->base_offset);
    EXPECT_EQ(4, out->last_offset);
    ASSERT_TRUE((*pm)->Close().ok());
  }
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  auto topic = (*pm)->FindTopic("orders");
  ASSERT_TRUE(topic.has_value());
  EXPECT_EQ(3, topic->partition_count);
  EXPECT_EQ("1000000", topic->configs.at("retention.ms"));
  auto p = (*pm)->Get("orders", 2);
  ASSERT_NE(nullptr, p);
  EXPECT_EQ(5, p->log().log_end_offset());
  EXPECT_EQ(5, p->high_watermark()) << "a clean close flushed everything";
  EXPECT_EQ(nullptr, (*pm)->Get("orders", 3));
}

TEST(PartitionManagerTest, HighWatermarkFollowsTheFlusherAndWakesWaiters) {
  testing::TempDir dir;
  auto config = Config(dir);
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  ASSERT_TRUE((*pm)->CreateTopic("t", 1, 1, {}, false).ok());
  auto p = (*pm)->Get("t", 0);
  std::promise<void> woken;
  p->AddWaiter([&] { woken.set_value(); });
  auto batch = Batch(3);
  ASSERT_TRUE(p->Append(batch, -1).ok());
  EXPECT_EQ(0, p->high_watermark()) << "unflushed data must not be visible";
  std::promise<Status> durable;
  (*pm)->flusher().WhenDurable(p, 3, [&](Status s) { durable.set_value(s); });
  auto durable_future = durable.get_future();
  ASSERT_EQ(std::future_status::ready, durable_future.wait_for(10s));
  EXPECT_TRUE(durable_future.get().ok());
  EXPECT_EQ(3, p->high_watermark());
  EXPECT_EQ(std::future_status::ready, woken.get_future().wait_for(10s));
}

// acks=all at a modest rate: each sync covers one small batch, so the flusher
// zero-fills the active segment ahead (sluice.log.preallocate.bytes), and
// the setting 0 turns that off. The data reads the same either way.
uint64_t SegmentFileBytesAfterSmallDurableAppends(const std::string& preallocate_bytes,
                                                  uint64_t* data_bytes) {
  testing::TempDir dir;
  auto config = Config(dir, {"sluice.log.preallocate.bytes=" + preallocate_bytes});
  auto pm = PartitionManager::Open(config);
  EXPECT_TRUE(pm.ok());
  EXPECT_TRUE((*pm)->CreateTopic("t", 1, 1, {}, false).ok());
  auto p = (*pm)->Get("t", 0);
  for (int i = 0; i < 5; ++i) {
    auto batch = Batch(1);
    auto out = p->Append(batch, -1);
    EXPECT_TRUE(out.ok());
    std::promise<Status> durable;
    (*pm)->flusher().WhenDurable(p, out->last_offset + 1, [&](Status s) { durable.set_value(s); });
    auto f = durable.get_future();
    EXPECT_EQ(std::future_status::ready, f.wait_for(10s));
    EXPECT_TRUE(f.get().ok());
  }
  (*pm)->flusher().Stop();  // Joins: any zero-fill is done.
  *data_bytes = p->log().size_bytes();
  const uint64_t file_bytes =
      std::filesystem::file_size(dir.path() / "t-0" / "00000000000000000000.log");
  auto read = p->log().Read(0, 1 << 20);
  EXPECT_TRUE(read.ok());
  EXPECT_EQ(read->size_bytes, *data_bytes);
  EXPECT_EQ(read->next_offset, 5);
  EXPECT_TRUE((*pm)->Close().ok());
  return file_bytes;
}

TEST(PartitionManagerTest, SmallSyncsGetTheActiveSegmentPreallocatedUnlessTurnedOff) {
  uint64_t data = 0;
  EXPECT_GE(SegmentFileBytesAfterSmallDurableAppends("65536", &data), data + 65536 / 4);
  EXPECT_EQ(SegmentFileBytesAfterSmallDurableAppends("0", &data), data);
}

// Appenders on several threads, on eight partitions, each waiting for its
// data to be durable: every wait completes OK with the data covered, and no
// partition's high watermark ever moves back (one sync thread per partition
// at a time, although several partitions sync at once). With
// `group_min_partitions` 1, every sync round takes all the dirty partitions
// there are (how many coincide is up to timing; that those are then synced
// together is pinned in flusher_test.cc); with 0, never together.
void RunConcurrentAppendersOnManyPartitions(const std::string& group_min_partitions,
                                            int threads_count = 4) {
  testing::TempDir dir;
  auto config = Config(dir, {"sluice.log.flush.group.min.partitions=" + group_min_partitions});
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  constexpr int kPartitions = 8, kAppendsPerThread = 60;
  const int kThreads = threads_count;
  ASSERT_TRUE((*pm)->CreateTopic("many", kPartitions, 1, {}, false).ok());
  std::atomic<int> completed{0}, failed{0}, went_back{0};
  std::vector<std::atomic<int64_t>> last_seen_hw(kPartitions);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        const int partition = (t + i) % kPartitions;
        auto p = (*pm)->Get("many", partition);
        auto batch = Batch(2);
        auto out = p->Append(batch, -1);
        if (!out.ok()) {
          ++failed;
          continue;
        }
        std::promise<void> done;
        (*pm)->flusher().WhenDurable(p, out->last_offset + 1, [&, p, partition](Status s) {
          if (!s.ok() || p->high_watermark() < 1) ++failed;
          const int64_t hw = p->high_watermark();
          int64_t seen = last_seen_hw[partition].load();
          while (seen < hw && !last_seen_hw[partition].compare_exchange_weak(seen, hw)) {
          }
          if (hw < seen) ++went_back;
          ++completed;
          done.set_value();
        });
        EXPECT_EQ(std::future_status::ready, done.get_future().wait_for(20s));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, failed.load());
  EXPECT_EQ(0, went_back.load());
  EXPECT_EQ(kThreads * kAppendsPerThread, completed.load());
  for (int p = 0; p < kPartitions; ++p) {
    auto part = (*pm)->Get("many", p);
    EXPECT_EQ(part->log().log_end_offset(), part->high_watermark()) << "partition " << p;
  }
  if (group_min_partitions == "0") {
    EXPECT_EQ((*pm)->flusher().rounds_together(), 0u);
  }
  ASSERT_TRUE((*pm)->Close().ok());
}

TEST(PartitionManagerTest, ConcurrentAppendersOnManyPartitionsAreAllMadeDurable) {
  RunConcurrentAppendersOnManyPartitions("0");
}

TEST(PartitionManagerTest, ConcurrentAppendersAreAllMadeDurableWhenEachRoundTakesAllDirtyOnes) {
  RunConcurrentAppendersOnManyPartitions("1");
}

// More appenders than partitions and sync threads: partitions are dirtied
// again while being synced and jobs outnumber idle threads, so every one must
// still be picked up without a further append to wake a thread.
TEST(PartitionManagerTest, MoreAppendersThanPartitionsAreAllMadeDurable) {
  RunConcurrentAppendersOnManyPartitions("0", 16);
}

// Writes spread over many partitions at once (keyed messages): the dirty
// partitions pile up behind the four sync threads and are then made durable
// together, each waiter still answered for its own partition.
TEST(PartitionManagerTest, PartitionsDirtiedAtOnceAreSyncedTogether) {
  testing::TempDir dir;
  auto config = Config(dir, {"sluice.log.flush.group.min.partitions=2"});
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  constexpr int kPartitions = 64;
  ASSERT_TRUE((*pm)->CreateTopic("wide", kPartitions, 1, {}, false).ok());
  std::vector<std::future<Status>> durable;
  std::vector<std::shared_ptr<std::promise<Status>>> promises;
  for (int round = 0; round < 3; ++round) {
    for (int p = 0; p < kPartitions; ++p) {
      auto partition = (*pm)->Get("wide", p);
      auto batch = Batch(1 + p % 3);
      auto out = partition->Append(batch, -1);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      promises.push_back(std::make_shared<std::promise<Status>>());
      durable.push_back(promises.back()->get_future());
      (*pm)->flusher().WhenDurable(partition, out->last_offset + 1,
                                   [done = promises.back()](Status s) { done->set_value(s); });
    }
  }
  for (auto& f : durable) {
    ASSERT_EQ(std::future_status::ready, f.wait_for(20s));
    EXPECT_TRUE(f.get().ok());
  }
  for (int p = 0; p < kPartitions; ++p) {
    auto partition = (*pm)->Get("wide", p);
    EXPECT_EQ(partition->high_watermark(), 3 * (1 + p % 3)) << p;
  }
  EXPECT_GT((*pm)->flusher().rounds_together(), 0u);
  ASSERT_TRUE((*pm)->Close().ok());
}

TEST(PartitionManagerTest, TopicConfigFollowsCreateAlterAndDelete) {
  testing::TempDir dir;
  auto config = Config(dir);
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  EXPECT_TRUE((*pm)->TopicConfigOf("cfg").status().IsNotFound());
  ASSERT_TRUE((*pm)->CreateTopic("cfg", 1, 1, {{"max.message.bytes", "2000"}}, false).ok());
  EXPECT_EQ(2000, (*pm)->TopicConfigOf("cfg")->max_message_bytes);
  ASSERT_TRUE((*pm)->SetTopicConfigs("cfg", {{"max.message.bytes", "3000"}}, false).ok());
  EXPECT_EQ(3000, (*pm)->TopicConfigOf("cfg")->max_message_bytes);
  ASSERT_TRUE((*pm)->SetTopicConfigs("cfg", {{"max.message.bytes", "4000"}}, true).ok());
  EXPECT_EQ(3000, (*pm)->TopicConfigOf("cfg")->max_message_bytes) << "validate_only changes nothing";
  ASSERT_TRUE((*pm)->SetTopicConfigs("cfg", {}, false).ok());
  EXPECT_EQ(config.GetInt("message.max.bytes"), (*pm)->TopicConfigOf("cfg")->max_message_bytes)
      << "without the override the broker default applies";
  ASSERT_TRUE((*pm)->DeleteTopic("cfg").ok());
  EXPECT_TRUE((*pm)->TopicConfigOf("cfg").status().IsNotFound());
  ASSERT_TRUE((*pm)->Close().ok());
}

TEST(PartitionManagerTest, IdempotentDuplicateIsNotWrittenTwiceEvenAfterRestart) {
  testing::TempDir dir;
  auto config = Config(dir);
  {
    auto pm = PartitionManager::Open(config);
    ASSERT_TRUE(pm.ok());
    ASSERT_TRUE((*pm)->CreateTopic("idem", 1, 1, {}, false).ok());
    auto p = (*pm)->Get("idem", 0);
    auto first = Batch(2, 42, 0);
    ASSERT_TRUE(p->Append(first, -1).ok());
    auto retry = Batch(2, 42, 0);
    auto again = p->Append(retry, -1);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(SequenceCheck::kDuplicate, again->check);
    EXPECT_EQ(0, again->base_offset);
    EXPECT_EQ(2, p->log().log_end_offset());
    auto gap = Batch(1, 42, 5);
    auto refused = p->Append(gap, -1);
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(SequenceCheck::kOutOfOrder, refused->check);
    ASSERT_TRUE((*pm)->Close().ok());
  }
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  auto p = (*pm)->Get("idem", 0);
  auto retry = Batch(2, 42, 0);
  auto again = p->Append(retry, -1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SequenceCheck::kDuplicate, again->check) << "producer state rebuilt from the log";
  EXPECT_EQ(2, p->log().log_end_offset());
}

TEST(PartitionManagerTest, CreateValidatesAndDeleteRemovesFiles) {
  testing::TempDir dir;
  auto config = Config(dir);
  auto pm = PartitionManager::Open(config);
  ASSERT_TRUE(pm.ok());
  EXPECT_FALSE((*pm)->CreateTopic("bad name", 1, 1, {}, false).ok());
  EXPECT_FALSE((*pm)->CreateTopic("t", 0, 1, {}, false).ok());
  EXPECT_FALSE((*pm)->CreateTopic("t", 1, 2, {}, false).ok());
  EXPECT_FALSE((*pm)->CreateTopic("t", 1, 1, {{"retention.ms", "soon"}}, false).ok());
  ASSERT_TRUE((*pm)->CreateTopic("t", 1, 1, {}, /*validate_only=*/true).ok());
  EXPECT_FALSE((*pm)->FindTopic("t").has_value()) << "validate_only wrote nothing";
  ASSERT_TRUE((*pm)->CreateTopic("a.b", 2, 1, {}, false).ok());
  EXPECT_FALSE((*pm)->CreateTopic("a_b", 1, 1, {}, false).ok()) << "collides in metric names";
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "a.b-1"));
  ASSERT_TRUE((*pm)->CreatePartitions("a.b", 4, false).ok());
  EXPECT_NE(nullptr, (*pm)->Get("a.b", 3));
  EXPECT_FALSE((*pm)->CreatePartitions("a.b", 2, false).ok());
  ASSERT_TRUE((*pm)->DeleteTopic("a.b").ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "a.b-1"));
  EXPECT_EQ(nullptr, (*pm)->Get("a.b", 0));
  EXPECT_TRUE((*pm)->DeleteTopic("a.b").IsNotFound());
}

// The value of an unlabelled series in a rendered exposition, -1 if absent.
double SeriesValue(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(PartitionManagerTest, ExportsTheLogCleanerTotalsWhileOpen) {
  testing::TempDir dir;
  auto config = config::BrokerConfig::Build(
      {}, "", {"log.dirs=" + dir.path().string(), "log.cleaner.backoff.ms=20"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  metrics::MetricsRegistry registry;
  metrics::BrokerMetrics metrics(registry);
  auto pm = PartitionManager::Open(*config, &metrics);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  ASSERT_TRUE((*pm)
                  ->CreateTopic("c", 1, 1,
                                {{"cleanup.policy", "compact"},
                                 {"segment.bytes", "300"},
                                 {"min.cleanable.dirty.ratio", "0.01"}},
                                false)
                  .ok());
  auto p = (*pm)->Get("c", 0);
  for (int i = 0; i < 30; ++i) {
    model::RecordBatchBuilder builder;
    const std::string key = "k" + std::to_string(i % 3);
    builder.Add(1000 + i, model::Bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                model::Bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
    auto batch = builder.Build();
    ASSERT_TRUE(batch.ok());
    ASSERT_TRUE(p->Append(*batch, -1).ok());
  }
  ASSERT_TRUE(p->log().Flush().ok());
  p->OnFlushed();  // The cleaner stays below the high watermark.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (SeriesValue(registry.Render(), "sluice_log_cleaner_removed_records_total") <= 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const std::string text = registry.Render();
  EXPECT_GT(SeriesValue(text, "sluice_log_cleaner_removed_records_total"), 0) << text;
  EXPECT_GE(SeriesValue(text, "sluice_log_cleaner_passes_total"), 1) << text;
  EXPECT_GT(SeriesValue(text, "sluice_log_cleaner_read_bytes_total"), 0) << text;
  EXPECT_EQ(SeriesValue(text, "sluice_log_cleaner_errors_total"), 0) << text;
  EXPECT_EQ(SeriesValue(text, "sluice_log_retention_deleted_segments_total"), 0) << text;
  ASSERT_TRUE((*pm)->Close().ok());
  EXPECT_GE(SeriesValue(registry.Render(), "sluice_log_cleaner_passes_total"),
            SeriesValue(text, "sluice_log_cleaner_passes_total"))
      << "the totals stay after Close";
  pm->reset();
  (void)registry.Render();  // The callbacks went with the manager (ASan would tell).
}

}  // namespace
}  // namespace sluice::cluster
