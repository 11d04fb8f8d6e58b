// A FileSystem for tests that wraps the real one and can
//   * count fdatasync and syncfs calls (to show group commit saves syncs),
//   * fail writes, syncs (of files and whole file systems) or truncates
//     with a chosen Status (ENOSPC, EIO),
//     optionally letting a prefix of a failing write reach the file,
//   * slow down syncs (to make concurrent flushers overlap), or hold them
//     until released (to make a test's appends land during a sync),
//   * simulate power loss: DropUnsyncedData() cuts every file written
//     through it back to the size it had at its last successful Sync(),
//     and restores what unsynced writes overwrote below that size (the
//     zeros of a preallocated segment),
//   * crash at a chosen operation: every operation that changes the file
//     system is counted, and after CrashAfter(k) the next k succeed and
//     every later one fails, as if the process had died there (directory
//     changes it made are kept: they are not modelled as volatile),
//   * run a hook before each directory creation or tree removal (to hold a
//     metadata change at a barrier).
// In the spirit of LevelDB's FaultInjectionTestEnv. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/file.h"

namespace sluice::storage::testing {

class FaultInjectionFileSystem : public ForwardingFileSystem {
 public:
  FaultInjectionFileSystem() : ForwardingFileSystem(FileSystem::Default()) {}

  Result<std::shared_ptr<File>> Open(const std::filesystem::path& path, bool create) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  // Every file written through us counts as synced up to its current size.
  Status SyncFileSystem(const std::filesystem::path& dir) override;
  Status CreateDir(const std::filesystem::path& dir) override;
  Status Remove(const std::filesystem::path& path) override;
  Status RemoveTree(const std::filesystem::path& dir) override;
  Status SyncDir(const std::filesystem::path& dir) override;

  // Every Write fails with `s` after writing `partial_bytes` of it.
  void FailWrites(Status s, size_t partial_bytes = 0);
  void FailSyncs(Status s);
  void FailTruncates(Status s);
  void ClearFaults();
  void SetSyncDelay(std::chrono::microseconds d) { sync_delay_us_ = d.count(); }
  // From HoldSyncs until ReleaseSyncs, every sync (of a file or a file
  // system) blocks before it starts. WaitForHeldSyncs: true once at least
  // `n` are blocked, false if `timeout` passes first.
  void HoldSyncs();
  void ReleaseSyncs();
  bool WaitForHeldSyncs(int n, std::chrono::milliseconds timeout);

  uint64_t sync_count() const { return syncs_.load(); }  // fdatasyncs of files
  uint64_t filesystem_sync_count() const { return filesystem_syncs_.load(); }
  uint64_t write_count() const { return writes_.load(); }
  uint64_t truncate_count() const { return truncates_.load(); }

  // Operations that change the file system: Open with create, Write, Sync,
  // Truncate, CreateDir, Rename, Remove, RemoveTree, SyncDir, SyncFileSystem.
  uint64_t mutation_count() const { return mutations_.load(); }
  // The next `k` mutations succeed, later ones fail with IOError until
  // ClearCrash() (which also makes DropUnsyncedData usable again).
  void CrashAfter(uint64_t k);
  void ClearCrash() { crash_at_ = kNoCrash; }
  bool crashed() const { return mutations_.load() > crash_at_.load(); }
  // Called on the calling thread before each CreateDir and RemoveTree;
  // empty = none. REQUIRES: not changed while such operations run.
  void SetDirectoryHook(std::function<void(const std::filesystem::path&)> hook) {
    dir_hook_ = std::move(hook);
  }

  Status DropUnsyncedData();
  // Bytes of `path` known durable (its size at the last successful Sync).
  uint64_t synced_size(const std::filesystem::path& path) const;

  // Used by the wrapped files.
  struct Shared;
  // Counts one mutation; its error if the simulated crash has happened.
  Status Mutation();

 private:
  static constexpr uint64_t kNoCrash = UINT64_MAX;
  std::atomic<uint64_t> mutations_{0};
  std::atomic<uint64_t> crash_at_{kNoCrash};  // mutations allowed in total
  std::function<void(const std::filesystem::path&)> dir_hook_;

  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> filesystem_syncs_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> truncates_{0};
  std::atomic<int64_t> sync_delay_us_{0};
  // Blocks while syncs are held (called before each sync).
  void PassSyncGate();
  friend class FaultFile;
};

struct FaultInjectionFileSystem::Shared {
  std::mutex mu;
  std::optional<Status> write_error;
  size_t partial_bytes = 0;
  std::optional<Status> sync_error;
  std::optional<Status> truncate_error;
  std::condition_variable gate_cv;  // signalled when hold_syncs or held_syncs change
  bool hold_syncs = false;
  int held_syncs = 0;  // syncs blocked by hold_syncs now
  std::map<std::string, uint64_t> synced_size;  // per path written through us
  // Bytes that unsynced writes replaced below synced_size, oldest first.
  struct Overwrite {
    uint64_t sequence;
    uint64_t offset;
    std::vector<uint8_t> old_bytes;
  };
  std::map<std::string, std::vector<Overwrite>> overwrites;
  uint64_t next_sequence = 0;
  // Forgets the overwrites of `path` made before `sequence`: now durable.
  void KeepOverwritesBefore(const std::string& path, uint64_t sequence);
};

}  // namespace sluice::storage::testing
