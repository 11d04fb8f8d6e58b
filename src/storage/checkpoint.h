// Kafka's checkpoint text format, used for every small state file beside the
// log:
//
//   <version>\n<count>\n<count lines>\n
//
// Written atomically (tmp + fdatasync + rename + directory fsync), so a crash
// leaves the old or the new content, never a mix.
//
// Per-partition files (our choice; Kafka keeps one file per data directory):
//   leader-epoch-checkpoint            lines "<epoch> <start offset>"
//   log-start-offset-checkpoint        one line "<offset>"
//   recovery-point-offset-checkpoint   one line "<offset>"
// Per-partition files keep a partition's state inside its own directory, so
// creating, deleting or moving a partition never rewrites shared files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::storage {

inline constexpr char kLeaderEpochCheckpoint[] = "leader-epoch-checkpoint";
inline constexpr char kLogStartOffsetCheckpoint[] = "log-start-offset-checkpoint";
inline constexpr char kRecoveryPointCheckpoint[] = "recovery-point-offset-checkpoint";

Status WriteCheckpoint(FileSystem* fs, const std::filesystem::path& dir, const std::string& name,
                       const std::vector<std::string>& lines);
// The lines of a version-0 checkpoint; NotFound when absent, Corruption when
// malformed (wrong version, count mismatch).
Result<std::vector<std::string>> ReadCheckpoint(FileSystem* fs, const std::filesystem::path& path);

Status WriteOffsetCheckpoint(FileSystem* fs, const std::filesystem::path& dir,
                             const std::string& name, int64_t offset);
// nullopt when the file is absent.
Result<std::optional<int64_t>> ReadOffsetCheckpoint(FileSystem* fs,
                                                    const std::filesystem::path& path);

}  // namespace sluice::storage
