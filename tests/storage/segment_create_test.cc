// A new segment's .log is created empty without a truncate: on ext4
// (auto_da_alloc) a truncate to 0 makes the file's last close -- when
// retention deletes the segment -- write back all its dirty pages first.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/fault_injection_fs.h"
#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

TEST(SegmentCreateTest, NewSegmentsAndRollsTruncateNothing) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  LogConfig config;
  config.segment_bytes = 4096;
  auto log = Log::Open(dir.path(), config, {&fs, nullptr, false}).value();
  // The first append persists leader epoch 0 (a checkpoint file, written
  // with a truncate and fsynced); the rolls after it touch segments only.
  ASSERT_TRUE(AppendBatch(*log, 1, 1000, 200).ok());
  const uint64_t before = fs.truncate_count();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 1000, 200).ok());
  ASSERT_GT(log->segment_count(), 3u);
  EXPECT_EQ(fs.truncate_count(), before);
  ASSERT_TRUE(log->Close().ok());
}

TEST(SegmentCreateTest, LeftoverFilesAtTheBaseAreStillEmptied) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const auto path = dir.path() / SegmentFileName(7, ".log");
  std::ofstream(path) << "stale bytes of an earlier segment at this base";
  std::ofstream(dir.path() / SegmentFileName(7, ".index")) << "12345678";
  Result<std::unique_ptr<Segment>> seg = Segment::Create(&fs, dir.path(), 7, LogConfig(), 0);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / SegmentFileName(7, ".index")), 0u);
  EXPECT_EQ((*seg)->size(), 0u);
  EXPECT_EQ((*seg)->next_offset(), 7);
}

}  // namespace
}  // namespace sluice::storage
