// FileCache: a bound on the descriptors the partition logs keep open, in
// the manner of LevelDB's table cache.
//
// Every segment's .log used to hold its descriptor for as long as the
// segment lived, so a broker's open files grew with its partitions: past
// RLIMIT_NOFILE, it served on but could no longer start. Now a segment holds
// a CachedFile instead: a File whose descriptor the cache opens on demand
// (by path, from the FileSystem) and closes when it is the least recently
// used one past `capacity`. Index and checkpoint files were never held
// open; they are opened for each (rare) read or write, as before.
//
// Pinning. Each operation on a CachedFile pins the open file (a shared_ptr
// to it) for its duration, and PinOpenFile() hands out such a pin to keep:
// the FileSlice of a fetch holds one until sendfile is done. Eviction only
// drops the cache's reference, so a pinned descriptor is never closed under
// its user; it closes when the last pin goes. The descriptors open are
// therefore at most `capacity` plus those pinned after their eviction.
//
// Closing a descriptor never loses data: dirty pages belong to the inode,
// not to the descriptor, and an fdatasync on a descriptor opened later
// writes them out and waits for them like one on the original would. One
// caveat: a write-back error that happens while no descriptor is open is
// reported to a later fdatasync only if nobody saw it yet (Linux >= 4.16)
// and the inode stayed in memory (an inode is not evicted while it has dirty
// pages, but may be once a failed write-back marked them clean). The log
// lives with that as it lives with write-back errors generally: any failed
// write, sync or reopen of a segment fails the log (log.h, Failures), which
// recovery then re-validates on the next start; and the flusher's syncfs of
// many partitions at once (Log::FlushTogether) reports write-back errors
// through the file system, which no descriptor's lifetime affects.
//
// Identity. A reopen goes by path, so it checks that the path still names
// the file first opened (FileId): a segment deleted by retention, or
// replaced by a cleaned copy or a re-creation at the same base offset, is
// reported as Aborted rather than read in place of the old bytes. Holders
// that read without the log's mutex (the cleaner, timestamp lookups) treat
// that as "the log changed; look again".
//
// Concurrency. The cache is sharded, each shard with its own mutex held
// for a hash lookup and a list splice (a hit) or an insertion (a miss; the
// open(2) itself runs without it, and evicted descriptors are closed after
// it is released). An append's pwrite or a flush's fdatasync thus adds one
// short critical section shared with 1/16th of the files, rather than a
// broker-wide lock that would serialize every partition's hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::storage {

struct FileCacheStats {
  size_t open = 0;         // descriptors the cache holds now
  uint64_t hits = 0;       // pins served by an open descriptor
  uint64_t opens = 0;      // descriptors taken in: adopted, or reopened on a miss
  uint64_t evictions = 0;  // descriptors dropped for capacity
};

class FileCache {
 public:
  // REQUIRES: capacity >= 1. The cache may be destroyed before its files:
  // they share its state.
  explicit FileCache(size_t capacity);
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // A File for `opened`'s path whose descriptor this cache manages from now
  // on (`opened` becomes its first cached descriptor, so a new segment costs
  // no second open). Reopens go through `fs`, which must outlive the file.
  Result<std::shared_ptr<File>> Adopt(FileSystem* fs, std::shared_ptr<File> opened);

  size_t capacity() const { return capacity_; }
  FileCacheStats stats() const;

  struct Shard;  // file_cache.cc

 private:
  const size_t capacity_;
  std::vector<std::shared_ptr<Shard>> shards_;
};

// The capacity that sluice.log.max.open.files = 0 stands for: three
// quarters of the process's soft RLIMIT_NOFILE (at least 64). The other
// quarter is for connections, for index and checkpoint files opened for a
// moment, and for descriptors that fetches in flight pin past eviction.
size_t DefaultFileCacheCapacity();

// The open file behind `file`, held open while the result lives: for a
// CachedFile a pinned descriptor (opened if it was closed), for any other
// File the file itself. What a FileSlice must hold for its fd to stay valid.
Result<std::shared_ptr<File>> PinOpenFile(const std::shared_ptr<File>& file);

}  // namespace sluice::storage
