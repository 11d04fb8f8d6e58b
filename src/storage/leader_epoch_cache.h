// Leader epoch -> first offset written in that epoch, for one partition,
// persisted in `leader-epoch-checkpoint` (Kafka's format, see checkpoint.h).
// Answers OffsetForLeaderEpoch and lets a follower find where its log
// diverges from the leader's.
//
// A new epoch (Assign) is written to the file by the Log's next flush, not
// at once: writing it costs two syncs, and the first append of every
// partition assigns one, so doing it on the append path stalled a network
// thread per new partition. Truncations and Reset still write at once.
//
// Not thread-safe, but for Persist(): the Log calls the rest under its
// mutex, and Persist() without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/file.h"
#include "base/mutex.h"

namespace sluice::storage {

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
};

// The history at one change, to be written without the Log's mutex.
struct EpochSnapshot {
  uint64_t version = 0;
  std::vector<EpochEntry> entries;
};

class LeaderEpochCache {
 public:
  static constexpr int32_t kUndefinedEpoch = -1;
  static constexpr int64_t kUndefinedOffset = -1;

  // Loads `dir/leader-epoch-checkpoint`; absent means empty. Corruption when
  // malformed or not strictly increasing.
  static Result<std::unique_ptr<LeaderEpochCache>> Load(FileSystem* fs,
                                                        const std::filesystem::path& dir);
  // An empty cache for `dir`, whatever the file holds (rebuilt with Reset).
  static std::unique_ptr<LeaderEpochCache> Empty(FileSystem* fs, const std::filesystem::path& dir);

  // Replaces the whole history (rebuilt from the log's batches) and persists
  // it. InvalidArgument unless epochs increase strictly and offsets do not
  // decrease.
  Status Reset(std::vector<EpochEntry> entries);

  // Records that `epoch` starts at `start_offset`, in memory: the file gets
  // it from Persist(). No-op when `epoch` is the latest; InvalidArgument
  // when it is older (epochs never go back).
  Status Assign(int32_t epoch, int64_t start_offset);
  // The history, if it changed since the file was last written.
  std::optional<EpochSnapshot> Unpersisted() const;
  // Writes `snapshot` unless a newer one is in the file already, so
  // concurrent flushes may each call it with what they saw.
  Status Persist(const EpochSnapshot& snapshot);
  // Drops epochs that start at or after `end_offset` (log truncation).
  Status TruncateFromEnd(int64_t end_offset);
  // Moves the history's start to `start_offset` (log start advanced): epochs
  // that end before it are dropped, the one covering it starts there (that
  // last change alone is kept in memory; Log::Open re-applies it).
  Status TruncateFromStart(int64_t start_offset);

  std::optional<int32_t> latest_epoch() const;
  const std::vector<EpochEntry>& entries() const { return entries_; }

  // Kafka's endOffsetFor: (largest known epoch <= `epoch`, the start offset
  // of the next higher epoch or `log_end_offset` when `epoch` is the latest).
  // (kUndefinedEpoch, kUndefinedOffset) when `epoch` is newer than all known.
  std::pair<int32_t, int64_t> EndOffsetFor(int32_t epoch, int64_t log_end_offset) const;

 private:
  LeaderEpochCache(FileSystem* fs, std::filesystem::path dir) : fs_(fs), dir_(std::move(dir)) {}
  Status PersistNow();  // After a change that must be in the file at once.

  FileSystem* fs_;
  std::filesystem::path dir_;
  std::vector<EpochEntry> entries_;  // epoch and start_offset strictly increasing
  uint64_t version_ = 0;             // counts changes to entries_ that the file must get
  Mutex persist_mu_;            // serialises writes of the file
  std::atomic<uint64_t> persisted_version_{0};
};

}  // namespace sluice::storage
