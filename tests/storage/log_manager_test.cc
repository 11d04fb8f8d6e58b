// LogManager: start-up discovery across data directories, create/delete,
// the clean-shutdown marker, and leaving unknown entries alone.
#include "storage/log_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using namespace sluice::storage::testing;

class LogManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<LogManager> OpenManager() {
    Result<std::unique_ptr<LogManager>> m = LogManager::Open({a_.path() / "d1", b_.path() / "d2"}, {});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(*m) : nullptr;
  }
  TempDir a_, b_;
};

TEST_F(LogManagerTest, CreatedPartitionsAreFoundAgainAfterRestartInEveryDataDir) {
  {
    auto m = OpenManager();
    for (int p = 0; p < 4; ++p) {
      Result<std::shared_ptr<Log>> log = m->Create({"orders", p}, LogConfig{});
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      ASSERT_TRUE(AppendBatch(**log, p + 1, 1000).ok());
    }
    ASSERT_TRUE(m->Close().ok());
  }
  // Spread over both directories (least-loaded placement).
  EXPECT_TRUE(fs::exists(a_.path() / "d1" / "orders-0"));
  EXPECT_TRUE(fs::exists(b_.path() / "d2" / "orders-1"));
  EXPECT_TRUE(fs::exists(a_.path() / "d1" / kCleanShutdownMarker));
  auto m = OpenManager();
  EXPECT_FALSE(fs::exists(a_.path() / "d1" / kCleanShutdownMarker));  // removed at open
  auto logs = m->Logs();
  ASSERT_EQ(logs.size(), 4u);
  for (auto& [tp, log] : logs) EXPECT_EQ(log->log_end_offset(), tp.partition + 1);
}

TEST_F(LogManagerTest, CreateFailsCleanlyWhenThePartitionExists) {
  auto m = OpenManager();
  ASSERT_TRUE(m->Create({"t", 0}, LogConfig{}).ok());
  EXPECT_EQ(m->Create({"t", 0}, LogConfig{}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(m->Create({"bad topic", 0}, LogConfig{}).status().code(),
            StatusCode::kInvalidArgument);
  // A stray directory of the same name that the manager did not open.
  fs::create_directories(b_.path() / "d2" / "u-1");
  fs::create_directories(a_.path() / "d1" / "u-1");
  EXPECT_EQ(m->Create({"u", 1}, LogConfig{}).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(LogManagerTest, DeleteRemovesTheDirectory) {
  auto m = OpenManager();
  auto log = m->Create({"gone", 3}, LogConfig{}).value();
  ASSERT_TRUE(AppendBatch(*log, 1, 1).ok());
  const fs::path dir = log->dir();
  ASSERT_TRUE(m->Delete({"gone", 3}).ok());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(m->Get({"gone", 3}), nullptr);
  EXPECT_TRUE(m->Delete({"gone", 3}).IsNotFound());
  EXPECT_EQ(AppendBatch(*log, 1, 1).status().code(), StatusCode::kAborted);
}

TEST_F(LogManagerTest, UnknownEntriesInDataDirsAreLeftAloneAndReported) {
  { auto m = OpenManager(); ASSERT_TRUE(m->Create({"t", 0}, LogConfig{}).ok()); ASSERT_TRUE(m->Close().ok()); }
  const fs::path d1 = a_.path() / "d1";
  fs::create_directories(d1 / "lost+found");
  fs::create_directories(d1 / "t-0.backup");
  { std::ofstream(d1 / "meta.properties") << "broker.id=1\n"; }
  { std::ofstream(d1 / "t-0" / "README") << "mine"; }
  auto m = OpenManager();
  EXPECT_EQ(m->Logs().size(), 1u);
  EXPECT_GE(m->notes().size(), 3u);
  ASSERT_TRUE(m->Close().ok());
  EXPECT_TRUE(fs::exists(d1 / "lost+found"));
  EXPECT_TRUE(fs::exists(d1 / "t-0.backup"));
  EXPECT_TRUE(fs::exists(d1 / "meta.properties"));
  EXPECT_TRUE(fs::exists(d1 / "t-0" / "README"));
}

TEST_F(LogManagerTest, EntriesOtherLayersKeepAreSkippedWithoutANote) {
  const fs::path d1 = a_.path() / "d1";
  fs::create_directories(d1 / "broker-metadata");
  { std::ofstream(d1 / "identity") << "broker.id=1\n"; }
  LogManagerOptions options;
  options.known_entries = {"identity", "broker-metadata"};
  auto m = LogManager::Open({d1}, std::move(options));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE((*m)->notes().empty()) << (*m)->notes().front();
  ASSERT_TRUE((*m)->Close().ok());
  EXPECT_TRUE(fs::exists(d1 / "identity"));
  EXPECT_TRUE(fs::exists(d1 / "broker-metadata"));
}

TEST_F(LogManagerTest, UncleanStopMeansRecoveryAtNextStart) {
  const fs::path d1 = a_.path() / "d1";
  int64_t leo = 0;
  {
    auto m = OpenManager();
    auto log = m->Create({"t", 0}, LogConfig{}).value();
    for (int i = 0; i < 5; ++i) leo = AppendBatch(*log, 2, i)->last_offset + 1;
    // No Close: no marker.
  }
  // A torn tail the recovery must remove.
  const fs::path seg = d1 / "t-0" / SegmentFileName(0, ".log");
  { std::ofstream(seg, std::ios::app | std::ios::binary) << "torn-bytes"; }
  auto m = OpenManager();
  ASSERT_EQ(m->Logs().size(), 1u);
  EXPECT_EQ(m->Get({"t", 0})->log_end_offset(), leo);
  bool noted = false;
  for (const std::string& n : m->notes()) noted |= n.find("truncated") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST_F(LogManagerTest, ManyPartitionsCreatedAtOnceAreSpreadAndFoundAgainAfterRestart) {
  std::vector<TopicPartition> tps;
  for (int p = 0; p < 40; ++p) tps.push_back({"wide", p});
  {
    auto m = OpenManager();
    Result<std::vector<std::shared_ptr<Log>>> logs = m->CreateMany(tps, LogConfig{});
    ASSERT_TRUE(logs.ok()) << logs.status().ToString();
    ASSERT_EQ(logs->size(), tps.size());
    for (int p = 0; p < 40; p += 3) ASSERT_TRUE(AppendBatch(*(*logs)[static_cast<size_t>(p)], p + 1, 1000).ok());
    ASSERT_TRUE(m->Close().ok());
  }
  size_t in_d1 = 0;
  for (const TopicPartition& tp : tps) in_d1 += fs::exists(a_.path() / "d1" / tp.DirName());
  EXPECT_EQ(in_d1, 20u);
  auto m = OpenManager();
  EXPECT_TRUE(m->notes().empty()) << m->notes().front();
  ASSERT_EQ(m->Logs().size(), 40u);
  for (auto& [tp, log] : m->Logs()) {
    EXPECT_EQ(log->log_end_offset(), tp.partition % 3 == 0 ? tp.partition + 1 : 0) << tp.DirName();
  }
}

TEST_F(LogManagerTest, CreateManyRefusesAnExistingPartitionBeforeCreatingAny) {
  auto m = OpenManager();
  ASSERT_TRUE(m->Create({"t", 1}, LogConfig{}).ok());
  Result<std::vector<std::shared_ptr<Log>>> logs =
      m->CreateMany({{"t", 0}, {"t", 1}, {"t", 2}}, LogConfig{});
  EXPECT_EQ(logs.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(m->Logs().size(), 1u);
  EXPECT_EQ(m->Get({"t", 0}), nullptr);
  EXPECT_FALSE(fs::exists(a_.path() / "d1" / "t-0"));
  EXPECT_FALSE(fs::exists(b_.path() / "d2" / "t-0"));
}

}  // namespace
}  // namespace sluice::storage
