#include "storage/leader_epoch_cache.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>

#include "storage/checkpoint.h"

namespace sluice::storage {

Result<std::unique_ptr<LeaderEpochCache>> LeaderEpochCache::Load(FileSystem* fs,
                                                                 const std::filesystem::path& dir) {
  std::unique_ptr<LeaderEpochCache> cache(new LeaderEpochCache(fs, dir));
  Result<std::vector<std::string>> lines = ReadCheckpoint(fs, dir / kLeaderEpochCheckpoint);
  if (!lines.ok()) {
    if (lines.status().IsNotFound()) return cache;
    return lines.status();
  }
  for (const std::string& line : *lines) {
    int epoch = 0;
    long long offset = 0;
    char extra = 0;
    if (std::sscanf(line.c_str(), "%d %lld %c", &epoch, &offset, &extra) != 2 || epoch < 0 ||
        offset < 0 ||
        (!cache->entries_.empty() && (epoch <= cache->entries_.back().epoch ||
                                      offset < cache->entries_.back().start_offset))) {
      return Status::Corruption((dir / kLeaderEpochCheckpoint).string() + ": bad line '" + line +
                                "'");
    }
    cache->entries_.push_back({epoch, offset});
  }
  return cache;
}

std::unique_ptr<LeaderEpochCache> LeaderEpochCache::Empty(FileSystem* fs,
                                                          const std::filesystem::path& dir) {
  return std::unique_ptr<LeaderEpochCache>(new LeaderEpochCache(fs, dir));
}

Status LeaderEpochCache::Reset(std::vector<EpochEntry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].epoch < 0 || entries[i].start_offset < 0 ||
        (i > 0 && (entries[i].epoch <= entries[i - 1].epoch ||
                   entries[i].start_offset < entries[i - 1].start_offset))) {
      return Status::InvalidArgument("leader epochs must increase");
    }
  }
  entries_ = std::move(entries);
  return PersistNow();
}

std::optional<EpochSnapshot> LeaderEpochCache::Unpersisted() const {
  if (version_ <= persisted_version_.load()) return std::nullopt;
  return EpochSnapshot{version_, entries_};
}

Status LeaderEpochCache::Persist(const EpochSnapshot& snapshot) {
  MutexLock lock(&persist_mu_);
  if (snapshot.version <= persisted_version_.load()) return Status::Ok();
  std::vector<std::string> lines;
  lines.reserve(snapshot.entries.size());
  for (const EpochEntry& e : snapshot.entries) {
    lines.push_back(std::to_string(e.epoch) + " " + std::to_string(e.start_offset));
  }
  SLUICE_RETURN_IF_ERROR(WriteCheckpoint(fs_, dir_, kLeaderEpochCheckpoint, lines));
  persisted_version_ = snapshot.version;
  return Status::Ok();
}

Status LeaderEpochCache::PersistNow() {
  ++version_;
  return Persist(EpochSnapshot{version_, entries_});
}

Status LeaderEpochCache::Assign(int32_t epoch, int64_t start_offset) {
  if (epoch < 0) return Status::InvalidArgument("negative leader epoch");
  if (!entries_.empty()) {
    if (epoch == entries_.back().epoch) return Status::Ok();
    if (epoch < entries_.back().epoch || start_offset < entries_.back().start_offset) {
      return Status::InvalidArgument("leader epoch " + std::to_string(epoch) + " at offset " +
                                     std::to_string(start_offset) + " is older than epoch " +
                                     std::to_string(entries_.back().epoch));
    }
  }
  entries_.push_back({epoch, start_offset});
  ++version_;
  return Status::Ok();
}

Status LeaderEpochCache::TruncateFromEnd(int64_t end_offset) {
  size_t keep = entries_.size();
  while (keep > 0 && entries_[keep - 1].start_offset >= end_offset) --keep;
  if (keep == entries_.size()) return Status::Ok();
  entries_.resize(keep);
  return PersistNow();
}

Status LeaderEpochCache::TruncateFromStart(int64_t start_offset) {
  // The last entry starting at or below start_offset covers it.
  size_t first = 0;
  while (first + 1 < entries_.size() && entries_[first + 1].start_offset <= start_offset) ++first;
  if (entries_.empty() || (first == 0 && entries_[0].start_offset >= start_offset)) {
    return Status::Ok();
  }
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(first));
  entries_[0].start_offset = std::max(entries_[0].start_offset, start_offset);
  // Moving only the first start offset is not persisted (every log start
  // advance would cost two fsyncs); Log::Open re-applies it from the log
  // start checkpoint.
  if (first == 0) return Status::Ok();
  return PersistNow();
}

std::optional<int32_t> LeaderEpochCache::latest_epoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

std::pair<int32_t, int64_t> LeaderEpochCache::EndOffsetFor(int32_t epoch,
                                                           int64_t log_end_offset) const {
  if (epoch == kUndefinedEpoch || entries_.empty()) return {kUndefinedEpoch, kUndefinedOffset};
  if (epoch == entries_.back().epoch) return {epoch, log_end_offset};
  // First entry with a higher epoch.
  size_t higher = 0;
  while (higher < entries_.size() && entries_[higher].epoch <= epoch) ++higher;
  if (higher == entries_.size()) return {kUndefinedEpoch, kUndefinedOffset};
  if (higher == 0) return {epoch, entries_[0].start_offset};  // Older than all we know.
  return {entries_[higher - 1].epoch, entries_[higher].start_offset};
}

}  // namespace sluice::storage
