// The files the log cleaner writes in a partition directory, and how a crash
// at any point is recovered. Written down here because the code in three
// places (LogCleaner, Log's swap, Log::Open) must agree on it.
//
// Swapping the closed segment with base offset B for its cleaned copy:
//   1. write B.log.cleaned, B.index.cleaned, B.timeindex.cleaned; fdatasync
//      each (Segment::CreateCleaned, then the Log's sync calls);
//   2. rename B.index.cleaned -> B.index.swap, B.timeindex.cleaned ->
//      B.timeindex.swap, then B.log.cleaned -> B.log.swap; fsync the
//      directory. A durable B.log.swap is the commit point: the cleaned copy
//      now replaces the segment, whatever happens next;
//   3. delete B.log, B.index, B.timeindex (open FileSlices keep the old bytes
//      readable); fsync the directory;
//   4. rename B.index.swap -> B.index, B.timeindex.swap -> B.timeindex, then
//      B.log.swap -> B.log; fsync the directory.
//
// Recovery (RecoverCleanerFiles, the first thing Log::Open does):
//   * every *.cleaned file is deleted: that cleaning never committed;
//   * for every B.log.swap, steps 3 and 4 are redone;
//   * an index .swap without its B.log.swap is deleted.
// Index files are derived data. Step 3's deletion is durable before step 4
// renames anything, so a new B.log can never meet an old index after a crash:
// an index that did not make it is missing, and opening rebuilds it.
//
// A segment that cleaning empties is not swapped unless it is the log's first
// (whose base is the log start offset): it is deleted, .log file first.
//
// `cleaner-offset-checkpoint` (checkpoint.h format, one line
// "<clean end> <compacted end>"):
//   clean end      segments below it were cleaned with every key above them
//                  known; the dirty part (what the dirty ratio measures)
//                  starts there. Written after a pass.
//   compacted end  no segment at or above it was ever rewritten. Written
//                  before a pass swaps anything, so after a crash recovery
//                  still knows which segments may have offset gaps
//                  (Segment::compacted()) and checks the others strictly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::storage {

inline constexpr char kCleanedSuffix[] = ".cleaned";
inline constexpr char kSwapSuffix[] = ".swap";
inline constexpr char kCleanerCheckpoint[] = "cleaner-offset-checkpoint";

// Steps 2-4 for base `base`, whose .cleaned files are written and synced.
// An error before step 2's directory fsync leaves the segment as it was
// (call DiscardCleanedFiles); after it, reopening the log finishes the swap.
Status CommitCleanedSegment(FileSystem* fs, const std::filesystem::path& dir, int64_t base);

// Deletes `base`'s .cleaned files, ignoring those already gone.
void DiscardCleanedFiles(FileSystem* fs, const std::filesystem::path& dir, int64_t base);

// Finishes or discards whatever a crash left behind (see above). Appends a
// line per action to *notes.
Status RecoverCleanerFiles(FileSystem* fs, const std::filesystem::path& dir,
                           std::vector<std::string>* notes);

struct CleanerCheckpoint {
  int64_t clean_end = 0;
  int64_t compacted_end = 0;
};

// nullopt-like default (both 0) when the file is absent.
Result<CleanerCheckpoint> ReadCleanerCheckpoint(FileSystem* fs, const std::filesystem::path& dir);
Status WriteCleanerCheckpoint(FileSystem* fs, const std::filesystem::path& dir,
                              const CleanerCheckpoint& checkpoint);

}  // namespace sluice::storage
