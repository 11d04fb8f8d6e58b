// Deleting segments must not make appends wait: the last close of an
// unlinked .log frees its page cache, which blocks on writeback (and on
// discards), so retention closes the files without the log's mutex.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/log.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

using sluice::testing::TempDir;
using namespace sluice::storage::testing;

// Forwards to a real File and runs a hook when destroyed, i.e. on the
// thread that drops the last reference, where the real close happens.
class HookedFile final : public File {
 public:
  HookedFile(std::shared_ptr<File> target, std::function<void()> on_close)
      : target_(std::move(target)), on_close_(std::move(on_close)) {}
  ~HookedFile() override {
    if (on_close_) on_close_();
  }
  Result<size_t> Read(uint64_t offset, std::span<uint8_t> out) const override {
    return target_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const uint8_t> data) override {
    return target_->Write(offset, data);
  }
  Status Sync() override { return target_->Sync(); }
  Status Truncate(uint64_t size) override { return target_->Truncate(size); }
  Result<uint64_t> Size() const override { return target_->Size(); }
  int fd() const override { return target_->fd(); }
  const std::filesystem::path& path() const override { return target_->path(); }

 private:
  std::shared_ptr<File> target_;
  std::function<void()> on_close_;
};

// Wraps every .log file so that closing it runs `on_log_close`.
class HookedFileSystem : public ForwardingFileSystem {
 public:
  HookedFileSystem() : ForwardingFileSystem(FileSystem::Default()) {}
  Result<std::shared_ptr<File>> Open(const std::filesystem::path& p, bool create) override {
    Result<std::shared_ptr<File>> f = target()->Open(p, create);
    if (!f.ok() || p.extension() != ".log") return f;
    return std::shared_ptr<File>(std::make_shared<HookedFile>(*f, [this] {
      std::function<void()> hook;
      {
        std::lock_guard lock(mu_);
        hook = on_log_close;
      }
      if (hook) hook();
    }));
  }

  std::mutex mu_;
  std::function<void()> on_log_close;  // guarded by mu_
};

TEST(RetentionCloseTest, AppendsProceedWhileRetentionClosesDeletedSegments) {
  TempDir dir;
  HookedFileSystem fs;
  LogConfig config;
  config.segment_bytes = 4096;
  config.retention_bytes = 4096;
  config.retention_ms = -1;
  auto log = Log::Open(dir.path(), config, {&fs, nullptr, false}).value();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(AppendBatch(*log, 1, 1000, 200).ok());
  ASSERT_GT(log->segment_count(), 3u);

  // While a deleted segment's file is being closed (a slow close, as under
  // writeback), an append from another thread must complete.
  std::atomic<int> closes{0};
  std::atomic<int> appends_done_during_close{0};
  std::vector<std::thread> appenders;
  {
    std::lock_guard lock(fs.mu_);
    fs.on_log_close = [&] {
      ++closes;
      auto done = std::make_shared<std::atomic<bool>>(false);
      appenders.emplace_back([&log, done, &appends_done_during_close] {
        const bool ok = AppendBatch(*log, 1, 1000, 200).ok();
        if (ok && !done->exchange(true)) ++appends_done_during_close;
      });
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!*done && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      // Past the deadline the append is still blocked: it no longer counts.
      done->exchange(true);
    };
  }
  Result<RetentionResult> r = log->EnforceRetention();
  {
    std::lock_guard lock(fs.mu_);
    fs.on_log_close = nullptr;
  }
  for (std::thread& t : appenders) t.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->segments, 0);
  EXPECT_EQ(closes.load(), r->segments);
  EXPECT_EQ(appends_done_during_close.load(), closes.load());
  ASSERT_TRUE(log->Close().ok());
}

}  // namespace
}  // namespace sluice::storage
