#include "storage/cleaner_files.h"

#include <limits>
#include <map>
#include <string_view>

#include "base/numbers.h"
#include "storage/checkpoint.h"
#include "storage/segment.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;

constexpr const char* kExtensions[] = {".index", ".timeindex", ".log"};  // .log last

fs::path PathOf(const fs::path& dir, int64_t base, std::string_view ext, std::string_view suffix) {
  return dir / (SegmentFileName(base, ext) + std::string(suffix));
}

Status RemoveIfPresent(FileSystem* fs, const fs::path& path) {
  Status s = fs->Remove(path);
  return s.IsNotFound() ? Status::Ok() : s;
}

// Renames base's files from `from` to `to` suffix, the .log last; a missing
// index file is skipped (it will be rebuilt), a missing .log is an error.
Status RenameAll(FileSystem* fs, const fs::path& dir, int64_t base, std::string_view from,
                 std::string_view to) {
  for (const char* ext : kExtensions) {
    Status s = fs->Rename(PathOf(dir, base, ext, from), PathOf(dir, base, ext, to));
    if (s.IsNotFound() && std::string_view(ext) != ".log") continue;
    SLUICE_RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

// Steps 3 and 4 of the protocol.
Status FinishSwap(FileSystem* fs, const fs::path& dir, int64_t base) {
  for (const char* ext : {".log", ".index", ".timeindex"}) {
    SLUICE_RETURN_IF_ERROR(RemoveIfPresent(fs, PathOf(dir, base, ext, "")));
  }
  SLUICE_RETURN_IF_ERROR(fs->SyncDir(dir));
  SLUICE_RETURN_IF_ERROR(RenameAll(fs, dir, base, kSwapSuffix, ""));
  return fs->SyncDir(dir);
}

// "<20 digits><ext><suffix>" -> base, for ext in kExtensions.
std::optional<std::pair<int64_t, std::string>> ParseLeftover(std::string_view name,
                                                             std::string_view suffix) {
  if (!name.ends_with(suffix)) return std::nullopt;
  name.remove_suffix(suffix.size());
  for (const char* ext : kExtensions) {
    if (name.size() == 20 + std::string_view(ext).size() && name.ends_with(ext)) {
      int64_t base = 0;
      if (!ParseInt64(name.substr(0, 20), &base) || base < 0) return std::nullopt;
      return std::make_pair(base, std::string(ext));
    }
  }
  return std::nullopt;
}

}  // namespace

Status CommitCleanedSegment(FileSystem* fs, const fs::path& dir, int64_t base) {
  SLUICE_RETURN_IF_ERROR(RenameAll(fs, dir, base, kCleanedSuffix, kSwapSuffix));
  SLUICE_RETURN_IF_ERROR(fs->SyncDir(dir));
  return FinishSwap(fs, dir, base);
}

void DiscardCleanedFiles(FileSystem* fs, const fs::path& dir, int64_t base) {
  for (const char* ext : kExtensions) (void)fs->Remove(PathOf(dir, base, ext, kCleanedSuffix));
}

Status RecoverCleanerFiles(FileSystem* fs, const fs::path& dir, std::vector<std::string>* notes) {
  Result<std::vector<DirEntry>> entries = fs->List(dir);
  if (!entries.ok()) return entries.status();
  std::map<int64_t, std::vector<std::string>> swaps;  // base -> extensions present
  bool changed = false;
  for (const DirEntry& e : *entries) {
    if (e.is_dir) continue;
    if (ParseLeftover(e.name, kCleanedSuffix)) {
      SLUICE_RETURN_IF_ERROR(RemoveIfPresent(fs, dir / e.name));
      notes->push_back("deleted " + e.name + " of an unfinished cleaning");
      changed = true;
    } else if (auto s = ParseLeftover(e.name, kSwapSuffix)) {
      swaps[s->first].push_back(s->second);
    }
  }
  for (const auto& [base, exts] : swaps) {
    bool committed = false;
    for (const std::string& ext : exts) committed |= ext == ".log";
    if (committed) {
      SLUICE_RETURN_IF_ERROR(FinishSwap(fs, dir, base));
      notes->push_back("finished swapping in the cleaned segment " + std::to_string(base));
    } else {
      for (const std::string& ext : exts) {
        SLUICE_RETURN_IF_ERROR(RemoveIfPresent(fs, PathOf(dir, base, ext, kSwapSuffix)));
      }
      notes->push_back("deleted uncommitted index swap files of segment " + std::to_string(base));
    }
    changed = true;
  }
  return changed ? fs->SyncDir(dir) : Status::Ok();
}

Result<CleanerCheckpoint> ReadCleanerCheckpoint(FileSystem* fs, const fs::path& dir) {
  CleanerCheckpoint c;
  Result<std::vector<std::string>> lines = ReadCheckpoint(fs, dir / kCleanerCheckpoint);
  if (!lines.ok()) {
    if (lines.status().IsNotFound()) return c;
    return lines.status();
  }
  std::string_view line = lines->size() == 1 ? std::string_view((*lines)[0]) : std::string_view();
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || !ParseInt64(line.substr(0, space), &c.clean_end) ||
      !ParseInt64(line.substr(space + 1), &c.compacted_end) || c.clean_end < 0 ||
      c.compacted_end < 0) {
    return Status::Corruption((dir / kCleanerCheckpoint).string() + ": malformed");
  }
  return c;
}

Status WriteCleanerCheckpoint(FileSystem* fs, const fs::path& dir, const CleanerCheckpoint& c) {
  return WriteCheckpoint(fs, dir, kCleanerCheckpoint,
                         {std::to_string(c.clean_end) + " " + std::to_string(c.compacted_end)});
}

}  // namespace sluice::storage
