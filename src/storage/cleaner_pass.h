// One cleaning pass over one log: the policy (which segments, whether the
// log is due) and the work (key map, rewrite, swap). LogCleaner decides when
// and on which thread; tests call CleanLogOnce directly.
//
// A pass holds the log's CleanerLease throughout:
//  1. Cleanable: the snapshot's closed segments (below the high watermark and
//     the flushed offset), cut before the first holding a record newer than
//     min.compaction.lag.ms (its max timestamp).
//  2. Due when dirty bytes / cleanable bytes >= min.cleanable.dirty.ratio
//     (dirty = segments from the clean end on), or the first dirty segment's
//     first batch is older than max.compaction.lag.ms, or a tombstone kept by
//     an earlier pass may now expire.
//  3. Map: key -> latest offset over the dirty segments, stopping at a
//     segment boundary once the map holds max_map_bytes.
//  4. Rewrite every cleanable segment below the end of the map, oldest first:
//     a record is dropped when a later record of its key is in the map, or it
//     is a tombstone (null value) and its segment's max timestamp is older
//     than delete.retention.ms. Control batches, keyless records and batches
//     that fail to decode or verify are kept as they are. A segment that
//     loses nothing is not rewritten. Oldest first: the values a tombstone
//     supersedes are gone before (or with) the tombstone, whatever crashes.
//  5. The clean end moves to the end of the map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/status.h"
#include "storage/log.h"

namespace sluice::storage {

struct CleanPlan {
  size_t cleanable = 0;    // snapshot.segments[0, cleanable) may be rewritten
  size_t first_dirty = 0;  // first of them at or after the clean end
  uint64_t dirty_bytes = 0;
  uint64_t cleanable_bytes = 0;
  double dirty_ratio = 0;
  bool due = false;
};

CleanPlan PlanClean(const CleanerSnapshot& snapshot);

struct CleanPassOptions {
  size_t max_map_bytes = size_t{128} << 20;
  // Polled between batches; true abandons the pass (as does Log::Close).
  std::function<bool()> should_stop;
  // Clean whatever the dirty ratio says (tests).
  bool force = false;
};

struct CleanPassStats {
  bool ran = false;  // false: not due, or nothing cleanable
  double dirty_ratio = 0;
  int segments_rewritten = 0;
  int segments_deleted = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_before = 0;  // of the rewritten segments
  uint64_t bytes_after = 0;
  uint64_t records_removed = 0;
  uint64_t tombstones_removed = 0;
  uint64_t batches_kept_unreadable = 0;
};

// Runs one pass if the log is due. Aborted when the log closed or the pass
// was stopped, or a segment changed under it (the next pass starts over).
Result<CleanPassStats> CleanLogOnce(Log& log, const CleanPassOptions& options);

}  // namespace sluice::storage
