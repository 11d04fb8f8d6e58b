// The storage engine's only door to the operating system. Every file
// operation the log performs goes through FileSystem and File so that tests
// can wrap them to count fdatasync calls, inject ENOSPC/EIO, and simulate a
// crash that loses whatever was not synced (see tests/storage/
// fault_injection_fs.h). Modelled on LevelDB's Env, reduced to what a log of
// append-only files needs.
//
// Thread safety: a File may be used from several threads at once (positional
// reads and writes, fdatasync) as long as callers do not write overlapping
// ranges concurrently; the Log guarantees that. FileSystem is stateless and
// thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::storage {

// Which file a descriptor refers to, whatever its name: a file renamed over
// or unlinked and re-created under the same path has another id.
struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  bool operator==(const FileId&) const = default;
};

class File {
 public:
  virtual ~File() = default;

  // Reads up to out.size() bytes at `offset`; fewer only at end of file.
  virtual Result<size_t> Read(uint64_t offset, std::span<uint8_t> out) const = 0;
  // Writes all of `data` at `offset` (retrying short writes) or fails.
  // After a failure some prefix of `data` may have reached the file.
  virtual Status Write(uint64_t offset, std::span<const uint8_t> data) = 0;
  // fdatasync: every completed Write is durable when this returns OK.
  virtual Status Sync() = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() const = 0;
  // The descriptor FileSlice hands to sendfile; valid while this File lives.
  virtual int fd() const = 0;
  // Last modification time in ms since the epoch (fstat of fd() unless
  // overridden): the age retention.ms uses for a segment whose records carry
  // no timestamp, as in Kafka.
  virtual Result<int64_t> LastModifiedMs() const;
  // The file's identity (fstat of fd() unless overridden); the file cache
  // checks a reopened descriptor against it (file_cache.h).
  virtual Result<FileId> Id() const;
  virtual const std::filesystem::path& path() const = 0;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The real POSIX file system; never null, never destroyed.
  static FileSystem* Default();

  // Opens `path` for reading and writing; creates it (empty) when `create`.
  virtual Result<std::shared_ptr<File>> Open(const std::filesystem::path& path, bool create) = 0;
  virtual Result<bool> Exists(const std::filesystem::path& path) = 0;
  virtual Result<std::vector<DirEntry>> List(const std::filesystem::path& dir) = 0;
  // Creates `dir`; AlreadyExists if it is there (callers decide if that is OK).
  virtual Status CreateDir(const std::filesystem::path& dir) = 0;
  virtual Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual Status Remove(const std::filesystem::path& path) = 0;
  virtual Status RemoveTree(const std::filesystem::path& dir) = 0;
  // fsync of a directory, making creations/renames/removals in it durable.
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;
  // syncfs(2) of the file system holding `dir`: every file and directory on
  // it becomes durable in one journal commit, which beats one fdatasync per
  // file when many files have unsynced writes. Other writers' data on that
  // file system is flushed too.
  virtual Status SyncFileSystem(const std::filesystem::path& dir) = 0;
};

// A FileSystem that forwards everything to another one; fault-injecting and
// counting wrappers override only what they need.
class ForwardingFileSystem : public FileSystem {
 public:
  explicit ForwardingFileSystem(FileSystem* target) : target_(target) {}
  Result<std::shared_ptr<File>> Open(const std::filesystem::path& p, bool create) override {
    return target_->Open(p, create);
  }
  Result<bool> Exists(const std::filesystem::path& p) override { return target_->Exists(p); }
  Result<std::vector<DirEntry>> List(const std::filesystem::path& d) override {
    return target_->List(d);
  }
  Status CreateDir(const std::filesystem::path& d) override { return target_->CreateDir(d); }
  Status Rename(const std::filesystem::path& f, const std::filesystem::path& t) override {
    return target_->Rename(f, t);
  }
  Status Remove(const std::filesystem::path& p) override { return target_->Remove(p); }
  Status RemoveTree(const std::filesystem::path& d) override { return target_->RemoveTree(d); }
  Status SyncDir(const std::filesystem::path& d) override { return target_->SyncDir(d); }
  Status SyncFileSystem(const std::filesystem::path& d) override {
    return target_->SyncFileSystem(d);
  }

 protected:
  FileSystem* target() const { return target_; }

 private:
  FileSystem* target_;
};

// Reads exactly out.size() bytes or returns Corruption("short read").
Status ReadFully(const File& file, uint64_t offset, std::span<uint8_t> out);

// Writes `data` to `dir/name` atomically: write `name.tmp`, fdatasync, rename
// over `name`, fsync `dir`. A crash leaves either the old or the new content.
Status WriteFileAtomically(FileSystem* fs, const std::filesystem::path& dir,
                           const std::string& name, std::span<const uint8_t> data);

// The same for text (properties, metadata records).
Status WriteFileAtomically(FileSystem* fs, const std::filesystem::path& dir,
                           const std::string& name, std::string_view text);

// Reads a whole (small) file.
Result<std::vector<uint8_t>> ReadWholeFile(FileSystem* fs, const std::filesystem::path& path);
// The same as text; NotFound if the file does not exist.
Result<std::string> ReadWholeTextFile(FileSystem* fs, const std::filesystem::path& path);

// Creates `dir` and any missing parents, each made durable in its parent
// (fsync of the parent) before the next level is created; OK if `dir`
// exists already.
Status CreateDirsDurably(FileSystem* fs, const std::filesystem::path& dir);

}  // namespace sluice::storage
