#include "storage/file_cache.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/mutex.h"

namespace sluice::storage {

namespace fs = std::filesystem;

// The open descriptors of the files hashed to this shard, least recently
// used first. A file that is closed has no entry.
struct FileCache::Shard {
  explicit Shard(size_t cap) : capacity(cap) {}

  // The cached file `key` now open, moved to the most recently used end;
  // null if its descriptor is closed.
  std::shared_ptr<File> Lookup(uint64_t key) EXCLUDES(mu) {
    MutexLock lock(&mu);
    auto it = entries.find(key);
    if (it == entries.end()) return nullptr;
    lru.splice(lru.end(), lru, it->second.lru_pos);
    ++hits;
    return it->second.file;
  }

  // Caches `file` as `key`'s descriptor unless another thread did meanwhile
  // (then that one is returned and `file` is left to close), evicting the
  // least recently used past capacity into `*evicted`, for the caller to
  // drop once the mutex is released.
  std::shared_ptr<File> Insert(uint64_t key, std::shared_ptr<File> file,
                               std::vector<std::shared_ptr<File>>* evicted) EXCLUDES(mu) {
    MutexLock lock(&mu);
    auto it = entries.find(key);
    if (it != entries.end()) {
      lru.splice(lru.end(), lru, it->second.lru_pos);
      evicted->push_back(std::move(file));
      return it->second.file;
    }
    ++opens;
    lru.push_back(key);
    entries.emplace(key, Entry{file, std::prev(lru.end())});
    while (entries.size() > capacity) {
      auto victim = entries.find(lru.front());
      evicted->push_back(std::move(victim->second.file));
      entries.erase(victim);
      lru.pop_front();
      ++evictions;
    }
    return file;
  }

  // Forgets `key` (its CachedFile is going away); returns the descriptor to
  // drop outside the mutex, if it was open.
  std::shared_ptr<File> Erase(uint64_t key) EXCLUDES(mu) {
    MutexLock lock(&mu);
    auto it = entries.find(key);
    if (it == entries.end()) return nullptr;
    std::shared_ptr<File> file = std::move(it->second.file);
    lru.erase(it->second.lru_pos);
    entries.erase(it);
    return file;
  }

  struct Entry {
    std::shared_ptr<File> file;
    std::list<uint64_t>::iterator lru_pos;
  };

  const size_t capacity;
  Mutex mu;
  std::unordered_map<uint64_t, Entry> entries GUARDED_BY(mu);
  std::list<uint64_t> lru GUARDED_BY(mu);  // keys; front: least recently used
  uint64_t hits GUARDED_BY(mu) = 0;
  uint64_t opens GUARDED_BY(mu) = 0;
  uint64_t evictions GUARDED_BY(mu) = 0;
};

namespace {

std::atomic<uint64_t> next_key{0};

// A File whose descriptor the cache opens and closes; see file_cache.h.
// Each operation pins the descriptor for its own duration only.
class CachedFile final : public File {
 public:
  CachedFile(std::shared_ptr<FileCache::Shard> shard, uint64_t key, FileSystem* fs, fs::path path,
             FileId id)
      : shard_(std::move(shard)), key_(key), fs_(fs), path_(std::move(path)), id_(id) {}
  ~CachedFile() override { (void)shard_->Erase(key_); }

  Result<std::shared_ptr<File>> Pin() const {
    if (std::shared_ptr<File> open = shard_->Lookup(key_)) return open;
    // Opened without the shard's mutex: a slow open(2) holds up no hit.
    Result<std::shared_ptr<File>> opened = fs_->Open(path_, /*create=*/false);
    if (!opened.ok()) {
      if (opened.status().IsNotFound()) {
        return Status::Aborted(path_.string() + " was removed while its descriptor was closed");
      }
      return opened.status();
    }
    Result<FileId> id = (*opened)->Id();
    if (!id.ok()) return id.status();
    if (*id != id_) {
      return Status::Aborted(path_.string() + " was replaced while its descriptor was closed");
    }
    std::vector<std::shared_ptr<File>> evicted;  // Closed here, after the mutex.
    return shard_->Insert(key_, std::move(*opened), &evicted);
  }

  Result<size_t> Read(uint64_t offset, std::span<uint8_t> out) const override {
    Result<std::shared_ptr<File>> f = Pin();
    if (!f.ok()) return f.status();
    return (*f)->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const uint8_t> data) override {
    Result<std::shared_ptr<File>> f = Pin();
    if (!f.ok()) return f.status();
    return (*f)->Write(offset, data);
  }
  Status Sync() override {
    Result<std::shared_ptr<File>> f = Pin();
    if (!f.ok()) return f.status();
    return (*f)->Sync();
  }
  Status Truncate(uint64_t size) override {
    Result<std::shared_ptr<File>> f = Pin();
    if (!f.ok()) return f.status();
    return (*f)->Truncate(size);
  }
  Result<uint64_t> Size() const override {
    Result<std::shared_ptr<File>> f = Pin();
    if (!f.ok()) return f.status();
    return (*f)->Size();
  }
  // No descriptor stays valid past a call: PinOpenFile() gives one that does.
  int fd() const override { return -1; }
  Result<int64_t> LastModifiedMs() const override {
    Result<std::shared_ptr<File>> f = Pin();
    if (!f.ok()) return f.status();
    return (*f)->LastModifiedMs();
  }
  Result<FileId> Id() const override { return id_; }
  const fs::path& path() const override { return path_; }

 private:
  const std::shared_ptr<FileCache::Shard> shard_;
  const uint64_t key_;
  FileSystem* const fs_;
  const fs::path path_;
  const FileId id_;
};

}  // namespace

FileCache::FileCache(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
  // Up to 16 shards (LevelDB's count), but at least 64 descriptors each, so
  // that a small cache is still one LRU and the shards' capacities add up
  // to at most `capacity`.
  const size_t n = std::clamp<size_t>(capacity_ / 64, 1, 16);
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_shared<Shard>(capacity_ / n));
}

FileCache::~FileCache() = default;

Result<std::shared_ptr<File>> FileCache::Adopt(FileSystem* fs, std::shared_ptr<File> opened) {
  Result<FileId> id = opened->Id();
  if (!id.ok()) return id.status();
  const uint64_t key = next_key.fetch_add(1, std::memory_order_relaxed);
  const std::shared_ptr<Shard>& shard = shards_[key % shards_.size()];
  auto file = std::make_shared<CachedFile>(shard, key, fs, opened->path(), *id);
  std::vector<std::shared_ptr<File>> evicted;
  (void)shard->Insert(key, std::move(opened), &evicted);
  return std::shared_ptr<File>(std::move(file));
}

FileCacheStats FileCache::stats() const {
  FileCacheStats out;
  for (const std::shared_ptr<Shard>& s : shards_) {
    MutexLock lock(&s->mu);
    out.open += s->entries.size();
    out.hits += s->hits;
    out.opens += s->opens;
    out.evictions += s->evictions;
  }
  return out;
}

size_t DefaultFileCacheCapacity() {
  struct rlimit rl {};
  uint64_t soft = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) soft = rl.rlim_cur;
  if (rl.rlim_cur == RLIM_INFINITY) soft = 1 << 20;
  return static_cast<size_t>(std::max<uint64_t>(soft / 4 * 3, 64));
}

Result<std::shared_ptr<File>> PinOpenFile(const std::shared_ptr<File>& file) {
  if (const auto* cached = dynamic_cast<const CachedFile*>(file.get())) return cached->Pin();
  return file;
}

}  // namespace sluice::storage
