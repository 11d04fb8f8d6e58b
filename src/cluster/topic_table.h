// TopicTable: the broker's record of which topics exist, with their ids,
// partition counts and per-topic configuration overrides.
//
// Every change is a metadata record appended (and fsynced) to a small
// metadata log before it is applied in memory, and the log is replayed at
// start-up. All of its file operations go through storage::FileSystem. This is the shape a controller needs later: in a cluster the
// same records arrive from the controller instead of from a local call.
//
// Thread-safe: reads take a shared lock, changes an exclusive one.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "storage/file.h"

namespace sluice::cluster {

using TopicId = std::array<uint8_t, 16>;

// A random version-4 style id; never all zero (Kafka's "no id").
TopicId NewTopicId();
std::string TopicIdToString(const TopicId& id);  // 32 hex digits.
// The id TopicIdToString wrote; nullopt for anything else.
std::optional<TopicId> ParseTopicId(std::string_view hex);

struct TopicInfo {
  std::string name;
  TopicId id{};
  int32_t partition_count = 0;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // Overrides only; defaults live in config/.

  bool operator==(const TopicInfo&) const = default;
};

class TopicTable {
 public:
  // Opens (creating if needed) the metadata log in `dir` and replays it. A
  // torn last record (crash mid-write) is dropped; corruption before the
  // last record fails the open rather than guessing.
  static Result<std::unique_ptr<TopicTable>> Open(storage::FileSystem* fs,
                                                  const std::filesystem::path& dir);

  // Rewrites a log dominated by history as one create record per topic
  // (atomically). Forgets DeletedTopics(): call it once their files are gone.
  Status CompactIfLong();
  // Names whose last record in the log is a deletion: a crash may have left
  // their partition directories behind, which the owner removes at start-up.
  std::set<std::string, std::less<>> DeletedTopics() const;

  ~TopicTable();
  TopicTable(const TopicTable&) = delete;
  TopicTable& operator=(const TopicTable&) = delete;

  // AlreadyExists if the name is taken. REQUIRES: the name is valid.
  Status CreateTopic(const TopicInfo& info);
  // NotFound if absent.
  Status DeleteTopic(std::string_view name);
  // InvalidArgument unless new_count > the current count.
  Status SetPartitionCount(std::string_view name, int32_t new_count);
  // Undoes a SetPartitionCount whose partitions could not be made (and were
  // never visible): back to `old_count`. InvalidArgument unless fewer.
  Status RevertPartitionCount(std::string_view name, int32_t old_count);
  // Sets (value) or removes (nullopt) one override.
  Status SetConfig(std::string_view name, std::string_view key,
                   const std::optional<std::string>& value);

  std::optional<TopicInfo> Find(std::string_view name) const;
  std::vector<TopicInfo> List() const;
  // Bumped by every change; lets callers cache derived views cheaply.
  uint64_t version() const;

 private:
  class Log;
  explicit TopicTable(std::unique_ptr<Log> log);

  // Applies one encoded record to topics_.
  Status Apply(std::string_view record) REQUIRES(mu_);
  // Appends, syncs, applies.
  Status Commit(const std::string& record) REQUIRES(mu_);

  mutable SharedMutex mu_;
  std::unique_ptr<Log> log_ PT_GUARDED_BY(mu_);
  std::map<std::string, TopicInfo, std::less<>> topics_ GUARDED_BY(mu_);
  std::set<std::string, std::less<>> deleted_ GUARDED_BY(mu_);  // see DeletedTopics
  size_t records_ GUARDED_BY(mu_) = 0;                          // in the log file
  uint64_t version_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::cluster
