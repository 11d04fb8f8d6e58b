// LogManager: every partition log under one or more data directories.
//
// A partition lives in `<data dir>/<topic>-<partition>` (Kafka naming). At
// start-up each data directory is listed; directories with a valid partition
// name are opened as logs, everything else (files, other directories) is
// left untouched and reported in notes(). Each data directory carries a
// `.kafka_cleanshutdown` marker written by Close() after every log closed
// cleanly; Open() removes it before touching anything, so its presence at
// the next start proves the previous run ended cleanly and recovery scans
// can be skipped.
//
// Open files: the segments' .log descriptors of every log go through one
// FileCache of `max_open_files` (file_cache.h), so the broker's descriptors
// stay bounded whatever the number of partitions.
//
// Thread-safe. Logs are handed out as shared_ptrs; Delete() closes and
// removes a log while holders may still keep the object (its calls then
// fail with Aborted).
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/file.h"
#include "storage/file_cache.h"
#include "storage/log.h"
#include "storage/log_config.h"
#include "base/mutex.h"

namespace sluice::storage {

inline constexpr char kCleanShutdownMarker[] = ".kafka_cleanshutdown";

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  std::string DirName() const;  // "<topic>-<partition>"
  // Inverse of DirName; nullopt unless the topic is a legal Kafka topic name
  // ([A-Za-z0-9._-]{1,249}) and the partition a non-negative integer.
  static std::optional<TopicPartition> ParseDirName(std::string_view name);
  auto operator<=>(const TopicPartition&) const = default;
};

struct LogManagerOptions {
  FileSystem* fs = FileSystem::Default();
  std::function<int64_t()> clock;  // passed to every Log
  LogConfig default_config;        // for logs opened at start-up
  // Entries other layers keep in a data directory: skipped without a note.
  std::vector<std::string> known_entries;
  // Capacity of the logs' FileCache; 0: no cache (each segment keeps its
  // .log open, as tests of a handful of logs may prefer).
  size_t max_open_files = 0;
};

class LogManager {
 public:
  // Creates missing data directories, then opens every partition in them.
  static Result<std::unique_ptr<LogManager>> Open(std::vector<std::filesystem::path> data_dirs,
                                                  LogManagerOptions options);
  ~LogManager();

  // A new, empty partition in the data directory holding the fewest.
  // AlreadyExists if the partition (or its directory) exists.
  Result<std::shared_ptr<Log>> Create(const TopicPartition& tp, const LogConfig& config);
  // Create() for many partitions at once (a new topic): created on several
  // threads, each data directory synced once at the end. On error, the logs
  // created before it stay; the first error is returned.
  Result<std::vector<std::shared_ptr<Log>>> CreateMany(const std::vector<TopicPartition>& tps,
                                                       const LogConfig& config);
  std::shared_ptr<Log> Get(const TopicPartition& tp);
  // Closes the log and removes its directory. NotFound if unknown.
  Status Delete(const TopicPartition& tp);
  std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> Logs();
  // Runs retention on every log; returns segments deleted.
  Result<int> EnforceRetention();
  // Closes every log (several at once), then writes each data directory's
  // clean-shutdown marker (only if all of its logs closed cleanly).
  Status Close();

  // Ignored entries, recovery actions; for the owner to log.
  std::vector<std::string> notes();
  // The file system every log is reached through.
  FileSystem* fs() const { return options_.fs; }
  // The logs' FileCache; null when max_open_files is 0.
  const FileCache* file_cache() const { return file_cache_.get(); }

 private:
  struct Entry {
    std::shared_ptr<Log> log;
    std::filesystem::path data_dir;
  };
  // Threads for creating and closing many logs: their syncs overlap.
  static constexpr int kIoThreads = 8;

  explicit LogManager(LogManagerOptions options);
  Status OpenDataDir(const std::filesystem::path& dir) REQUIRES(mu_);
  LogOptions OptionsForLog(bool clean_shutdown, bool new_dir) const;

  LogManagerOptions options_;
  // Shared with the logs' segments, which may outlive the manager.
  std::unique_ptr<FileCache> file_cache_;
  std::vector<std::filesystem::path> data_dirs_;
  Mutex mu_;
  std::map<TopicPartition, Entry> logs_ GUARDED_BY(mu_);
  std::vector<std::string> notes_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace sluice::storage
