// FileCache: the bound on open descriptors holds under concurrent use,
// pinned descriptors are never closed under their holder, a reopen after
// eviction reaches the same bytes, and a path that names another file by
// then is refused rather than read.
#include "storage/file_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/file.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;

// Descriptors this process has open now.
size_t OpenDescriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// 8 bytes naming a thread and a round.
std::string fmt_value(int thread, int round) {
  std::string s = "t" + std::to_string(thread) + "r" + std::to_string(round);
  s.resize(8, '.');
  return s;
}

std::string ReadString(const File& f, uint64_t offset, size_t n) {
  std::string out(n, '\0');
  Status s = ReadFully(f, offset, {reinterpret_cast<uint8_t*>(out.data()), n});
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class FileCacheTest : public ::testing::Test {
 protected:
  // A new file `name` (created through the real file system), handed to `cache`.
  std::shared_ptr<File> AdoptNew(FileCache& cache, const std::string& name) {
    Result<std::shared_ptr<File>> f = FileSystem::Default()->Open(dir_.path() / name, true);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return nullptr;
    Result<std::shared_ptr<File>> cached = cache.Adopt(FileSystem::Default(), std::move(*f));
    EXPECT_TRUE(cached.ok()) << cached.status().ToString();
    return cached.ok() ? *cached : nullptr;
  }

  ::sluice::testing::TempDir dir_;
};

TEST_F(FileCacheTest, CapacityHoldsUnderConcurrentUse) {
  constexpr size_t kCapacity = 8;
  constexpr int kFiles = 64;
  constexpr int kThreads = 4;
  FileCache cache(kCapacity);
  const size_t before = OpenDescriptors();
  std::vector<std::shared_ptr<File>> files;
  for (int i = 0; i < kFiles; ++i) files.push_back(AdoptNew(cache, "f" + std::to_string(i)));
  EXPECT_LE(cache.stats().open, kCapacity);
  EXPECT_LE(OpenDescriptors(), before + kCapacity);

  // Each thread owns the 8-byte slot `thread` of every file and writes it
  // again and again, reading back what it wrote, in random file order.
  std::atomic<bool> failed{false};
  std::atomic<size_t> most_open{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int round = 0; round < 400; ++round) {
        File& f = *files[rng() % kFiles];
        const std::string value = fmt_value(t, round);
        if (!f.Write(static_cast<uint64_t>(t) * 8, Bytes(value)).ok()) failed = true;
        std::string back(8, '\0');
        Result<size_t> n = f.Read(static_cast<uint64_t>(t) * 8,
                                  {reinterpret_cast<uint8_t*>(back.data()), back.size()});
        if (!n.ok() || *n != 8 || back != value) failed = true;
        const size_t open = cache.stats().open;
        size_t seen = most_open.load();
        while (open > seen && !most_open.compare_exchange_weak(seen, open)) {
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(failed.load());
  EXPECT_LE(most_open.load(), kCapacity);
  EXPECT_LE(OpenDescriptors(), before + kCapacity);
  const FileCacheStats st = cache.stats();
  EXPECT_GT(st.evictions, 0u);
  EXPECT_GT(st.hits, 0u);
  files.clear();
  EXPECT_EQ(0u, cache.stats().open);
  EXPECT_EQ(before, OpenDescriptors());
}

TEST_F(FileCacheTest, PinnedDescriptorOutlivesEviction) {
  FileCache cache(1);
  std::shared_ptr<File> a = AdoptNew(cache, "a");
  ASSERT_TRUE(a->Write(0, Bytes("pinned")).ok());
  Result<std::shared_ptr<File>> pin = PinOpenFile(a);
  ASSERT_TRUE(pin.ok());
  const int fd = (*pin)->fd();
  ASSERT_GE(fd, 0);
  std::shared_ptr<File> b = AdoptNew(cache, "b");  // Evicts a's descriptor from the cache.
  EXPECT_EQ(1u, cache.stats().evictions);
  EXPECT_EQ(1u, cache.stats().open);
  // The pin still holds it: the same descriptor, open, reading a's bytes.
  EXPECT_NE(-1, ::fcntl(fd, F_GETFD));
  char buf[6];
  ASSERT_EQ(6, ::pread(fd, buf, sizeof(buf), 0));
  EXPECT_EQ("pinned", std::string(buf, 6));
  pin = Status::Aborted("released");
  // Released: closed now (or reused for something else, but not a's file).
  EXPECT_EQ(-1, a->fd()) << "a CachedFile has no descriptor of its own";
}

TEST_F(FileCacheTest, ReopenAfterEvictionReachesTheSameBytes) {
  FileCache cache(2);
  std::shared_ptr<File> a = AdoptNew(cache, "a");
  ASSERT_TRUE(a->Write(0, Bytes("before eviction;")).ok());
  std::vector<std::shared_ptr<File>> others;
  for (int i = 0; i < 4; ++i) others.push_back(AdoptNew(cache, "o" + std::to_string(i)));
  const uint64_t opens = cache.stats().opens;
  EXPECT_EQ("before eviction;", ReadString(*a, 0, 16));  // Reopened.
  EXPECT_EQ(opens + 1, cache.stats().opens);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(others[static_cast<size_t>(i)]->Sync().ok());
  // Written after a reopen, synced after another one: the same inode.
  ASSERT_TRUE(a->Write(16, Bytes("after")).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(others[static_cast<size_t>(i)]->Truncate(0).ok());
  ASSERT_TRUE(a->Sync().ok());
  Result<uint64_t> size = a->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(21u, *size);
  ASSERT_TRUE(a->Truncate(6).ok());
  Result<std::vector<uint8_t>> whole = ReadWholeFile(FileSystem::Default(), dir_.path() / "a");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ("before", std::string(whole->begin(), whole->end()));
  EXPECT_TRUE(a->LastModifiedMs().ok());
}

TEST_F(FileCacheTest, ReplacedOrRemovedFileIsNotReadInItsPlace) {
  FileCache cache(1);
  std::shared_ptr<File> a = AdoptNew(cache, "a");
  ASSERT_TRUE(a->Write(0, Bytes("old")).ok());
  std::shared_ptr<File> b = AdoptNew(cache, "b");  // a is closed now.
  // Another file renamed over a's path, as a cleaned segment would be.
  {
    Result<std::shared_ptr<File>> other = FileSystem::Default()->Open(dir_.path() / "new", true);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->Write(0, Bytes("new")).ok());
  }
  ASSERT_TRUE(FileSystem::Default()->Rename(dir_.path() / "new", dir_.path() / "a").ok());
  std::string buf(3, '\0');
  Result<size_t> n = a->Read(0, {reinterpret_cast<uint8_t*>(buf.data()), 3});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(StatusCode::kAborted, n.status().code()) << n.status().ToString();

  ASSERT_TRUE(FileSystem::Default()->Remove(dir_.path() / "a").ok());
  Status w = a->Write(0, Bytes("x"));
  EXPECT_EQ(StatusCode::kAborted, w.code()) << w.ToString();
  EXPECT_TRUE(b->Write(0, Bytes("b")).ok()) << "other files are not affected";
}

TEST_F(FileCacheTest, ShardsNeverHoldMoreThanTheCapacity) {
  // 16 shards of 64; a thousand files hashed over them.
  FileCache cache(1024);
  std::vector<std::shared_ptr<File>> files;
  for (int i = 0; i < 1100; ++i) files.push_back(AdoptNew(cache, "f" + std::to_string(i)));
  EXPECT_LE(cache.stats().open, 1024u);
  EXPECT_GE(cache.stats().open, 1024u - 16u);
}

}  // namespace
}  // namespace sluice::storage
