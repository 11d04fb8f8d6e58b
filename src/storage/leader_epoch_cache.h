// Leader epoch -> first offset written in that epoch, for one partition,
// persisted in `leader-epoch-checkpoint` (Kafka's format, see checkpoint.h)
// every time it changes. Answers OffsetForLeaderEpoch and lets a follower
// find where its log diverges from the leader's.
//
// Not thread-safe: the Log calls it under its mutex.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::storage {

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
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

  // Records that `epoch` starts at `start_offset`. No-op when `epoch` is the
  // latest; InvalidArgument when it is older (epochs never go back).
  Status Assign(int32_t epoch, int64_t start_offset);
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
  Status Persist() const;

  FileSystem* fs_;
  std::filesystem::path dir_;
  std::vector<EpochEntry> entries_;  // epoch and start_offset strictly increasing
};

}  // namespace sluice::storage
