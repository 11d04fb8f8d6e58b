#include "storage/log_manager.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "base/parallel_for.h"
#include "storage/dir_lock.h"

namespace sluice::storage {

namespace fs = std::filesystem;

std::string TopicPartition::DirName() const { return topic + "-" + std::to_string(partition); }

std::optional<TopicPartition> TopicPartition::ParseDirName(std::string_view name) {
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 249 || dash + 1 == name.size()) {
    return std::nullopt;
  }
  std::string_view topic = name.substr(0, dash);
  std::string_view part = name.substr(dash + 1);
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return std::nullopt;
  }
  if (topic == "." || topic == "..") return std::nullopt;
  int32_t p = 0;
  auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), p);
  if (ec != std::errc() || end != part.data() + part.size() || p < 0 || part[0] == '+') {
    return std::nullopt;
  }
  TopicPartition tp{std::string(topic), p};
  if (tp.DirName() != name) return std::nullopt;  // e.g. "t-007"
  return tp;
}

Result<std::unique_ptr<LogManager>> LogManager::Open(std::vector<fs::path> data_dirs,
                                                     LogManagerOptions options) {
  if (data_dirs.empty()) return Status::InvalidArgument("no data directories");
  SLUICE_RETURN_IF_ERROR(options.default_config.Validate());
  std::unique_ptr<LogManager> m(new LogManager(std::move(options)));
  // Nobody else can see the manager yet; the lock is uncontended.
  MutexLock lock(&m->mu_);
  for (const fs::path& dir : data_dirs) {
    SLUICE_RETURN_IF_ERROR(m->OpenDataDir(dir));
    m->data_dirs_.push_back(dir);
  }
  return m;
}

LogManager::LogManager(LogManagerOptions options) : options_(std::move(options)) {
  if (options_.max_open_files > 0) {
    file_cache_ = std::make_unique<FileCache>(options_.max_open_files);
  }
}

LogManager::~LogManager() = default;

LogOptions LogManager::OptionsForLog(bool clean_shutdown, bool new_dir) const {
  LogOptions lo;
  lo.fs = options_.fs;
  lo.clock = options_.clock;
  lo.clean_shutdown = clean_shutdown;
  lo.new_dir = new_dir;
  lo.file_cache = file_cache_.get();
  return lo;
}

Status LogManager::OpenDataDir(const fs::path& dir) {
  FileSystem* fs = options_.fs;
  Status created = fs->CreateDir(dir);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  Result<bool> clean = fs->Exists(dir / kCleanShutdownMarker);
  if (!clean.ok()) return clean.status();
  if (*clean) {
    // Remove (durably) before any write: a crash from here on is unclean.
    SLUICE_RETURN_IF_ERROR(fs->Remove(dir / kCleanShutdownMarker));
    SLUICE_RETURN_IF_ERROR(fs->SyncDir(dir));
  }
  Result<std::vector<DirEntry>> entries = fs->List(dir);
  if (!entries.ok()) return entries.status();
  std::vector<std::pair<TopicPartition, std::string>> found;  // (partition, entry name)
  for (const DirEntry& e : *entries) {
    if (e.name == kDirLockFile) continue;  // The broker's DirLock.
    if (std::find(options_.known_entries.begin(), options_.known_entries.end(), e.name) !=
        options_.known_entries.end()) {
      continue;
    }
    std::optional<TopicPartition> tp;
    if (e.is_dir) tp = TopicPartition::ParseDirName(e.name);
    if (!tp) {
      notes_.push_back("ignored unknown entry " + (dir / e.name).string());
      continue;
    }
    if (logs_.count(*tp)) {
      return Status::Corruption("partition " + e.name + " exists in two data directories");
    }
    found.emplace_back(std::move(*tp), e.name);
  }
  // Opened on several threads: with tens of thousands of partitions the
  // opens are many small reads and stats, which overlap. The descriptors
  // they leave open are the file cache's, within its capacity.
  std::vector<std::unique_ptr<Log>> opened(found.size());
  std::vector<Status> errors(found.size());
  const LogOptions lo = OptionsForLog(*clean, /*new_dir=*/false);
  ParallelFor(found.size(), kIoThreads, [&](size_t i) {
    Result<std::unique_ptr<Log>> log = Log::Open(dir / found[i].second, options_.default_config, lo);
    if (log.ok()) {
      opened[i] = std::move(*log);
    } else {
      errors[i] = log.status();
    }
  });
  for (size_t i = 0; i < found.size(); ++i) {
    if (!errors[i].ok()) return errors[i];
    for (const std::string& n : opened[i]->open_notes()) notes_.push_back(found[i].second + ": " + n);
    logs_[found[i].first] = {std::shared_ptr<Log>(std::move(opened[i])), dir};
  }
  return Status::Ok();
}

Result<std::shared_ptr<Log>> LogManager::Create(const TopicPartition& tp, const LogConfig& config) {
  Result<std::vector<std::shared_ptr<Log>>> logs = CreateMany({tp}, config);
  if (!logs.ok()) return logs.status();
  return std::move(logs->front());
}

Result<std::vector<std::shared_ptr<Log>>> LogManager::CreateMany(
    const std::vector<TopicPartition>& tps, const LogConfig& config) {
  MutexLock lock(&mu_);
  if (closed_) return Status::Aborted("log manager is closed");
  // Each goes to the data directory with the fewest partitions.
  std::map<fs::path, size_t> counts;
  for (const fs::path& d : data_dirs_) counts[d] = 0;
  for (const auto& [k, e] : logs_) ++counts[e.data_dir];
  std::vector<fs::path> homes;
  for (const TopicPartition& tp : tps) {
    if (!TopicPartition::ParseDirName(tp.DirName())) {
      return Status::InvalidArgument("illegal topic partition " + tp.DirName());
    }
    if (logs_.count(tp)) return Status::AlreadyExists(tp.DirName());
    fs::path best = data_dirs_.front();
    for (const fs::path& d : data_dirs_) {
      if (counts[d] < counts[best]) best = d;
    }
    ++counts[best];
    homes.push_back(best);
  }
  std::vector<std::unique_ptr<Log>> opened(tps.size());
  std::vector<Status> errors(tps.size());
  ParallelFor(tps.size(), kIoThreads, [&](size_t i) {
    const fs::path dir = homes[i] / tps[i].DirName();
    errors[i] = options_.fs->CreateDir(dir);  // AlreadyExists if a stray dir is there
    if (!errors[i].ok()) return;
    Result<std::unique_ptr<Log>> log =
        Log::Open(dir, config, OptionsForLog(/*clean_shutdown=*/false, /*new_dir=*/true));
    if (log.ok()) {
      opened[i] = std::move(*log);
    } else {
      errors[i] = log.status();
      (void)options_.fs->RemoveTree(dir);  // Ours: not left half-made.
    }
  });
  Status first;
  std::vector<std::shared_ptr<Log>> out;
  for (size_t i = 0; i < tps.size(); ++i) {
    if (!errors[i].ok()) {
      if (first.ok()) first = errors[i];
      continue;
    }
    std::shared_ptr<Log> shared(std::move(opened[i]));
    logs_[tps[i]] = {shared, homes[i]};
    out.push_back(std::move(shared));
  }
  // The new directories' entries are durable before any data in them is.
  for (const fs::path& d : std::set<fs::path>(homes.begin(), homes.end())) {
    Status s = options_.fs->SyncDir(d);
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return first;
  return out;
}

std::shared_ptr<Log> LogManager::Get(const TopicPartition& tp) {
  MutexLock lock(&mu_);
  auto it = logs_.find(tp);
  return it == logs_.end() ? nullptr : it->second.log;
}

Status LogManager::Delete(const TopicPartition& tp) {
  MutexLock lock(&mu_);
  auto it = logs_.find(tp);
  if (it == logs_.end()) return Status::NotFound(tp.DirName());
  Entry e = it->second;
  logs_.erase(it);
  (void)e.log->Close();  // Its data is going away; a close error changes nothing.
  SLUICE_RETURN_IF_ERROR(options_.fs->RemoveTree(e.log->dir()));
  return options_.fs->SyncDir(e.data_dir);
}

std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> LogManager::Logs() {
  MutexLock lock(&mu_);
  std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> out;
  for (const auto& [tp, e] : logs_) out.emplace_back(tp, e.log);
  return out;
}

Result<int> LogManager::EnforceRetention() {
  int total = 0;
  for (auto& [tp, log] : Logs()) {
    Result<RetentionResult> r = log->EnforceRetention();
    if (!r.ok()) return r.status();
    total += r->segments;
  }
  return total;
}

Status LogManager::Close() {
  MutexLock lock(&mu_);
  if (closed_) return Status::Ok();
  closed_ = true;
  Status first;
  std::map<fs::path, bool> dir_clean;
  for (const fs::path& d : data_dirs_) dir_clean[d] = true;
  std::vector<const Entry*> entries;
  for (const auto& [tp, e] : logs_) entries.push_back(&e);
  Mutex failures_mu;
  ParallelFor(entries.size(), kIoThreads, [&](size_t i) {
    Status s = entries[i]->log->Close();
    if (s.ok()) return;
    MutexLock failures(&failures_mu);
    dir_clean[entries[i]->data_dir] = false;
    if (first.ok()) first = s;
  });
  for (const auto& [d, clean] : dir_clean) {
    if (!clean) continue;
    Result<std::shared_ptr<File>> marker = options_.fs->Open(d / kCleanShutdownMarker, true);
    Status s = marker.ok() ? options_.fs->SyncDir(d) : marker.status();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

std::vector<std::string> LogManager::notes() {
  MutexLock lock(&mu_);
  return notes_;
}

}  // namespace sluice::storage
