// Per-partition log settings, named after Kafka's topic-level configs. The
// config/ layer parses properties and overrides into this struct.
#pragma once

#include <cstdint>
#include <limits>

#include "base/status.h"

namespace sluice::storage {

struct LogConfig {
  static constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

  // segment.bytes: roll when the active segment would exceed this size.
  int64_t segment_bytes = int64_t{1} << 30;
  // segment.ms: roll when the active segment's first batch is this old.
  // Checked on append only, as in Kafka: an idle partition keeps its active
  // segment (which retention never deletes) until the next append.
  int64_t segment_ms = int64_t{7} * 24 * 3600 * 1000;
  // retention.ms: delete segments whose largest timestamp is older (the
  // .log file's mtime when no record has a timestamp); -1 = keep.
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;
  // retention.bytes: delete old segments while the log is larger; -1 = keep.
  int64_t retention_bytes = -1;
  // flush.messages: fdatasync after this many records since the last flush.
  int64_t flush_messages = kUnbounded;
  // flush.ms: fdatasync when the oldest unflushed append is this old
  // (checked on append and by the owner's periodic Log::MaybeFlush).
  int64_t flush_ms = kUnbounded;
  // index.interval.bytes: bytes of log between two offset-index entries.
  int32_t index_interval_bytes = 4096;
  // segment.index.bytes: maximum size of a segment's offset index; a full
  // index rolls the segment.
  int32_t segment_index_bytes = 10 * 1024 * 1024;
  // max.message.bytes: largest batch the log accepts.
  int32_t max_message_bytes = 1048588;

  // Compaction (log_cleaner.h). cleanup.policy contains "compact"; retention
  // above still applies when it also contains "delete" (the owner sets
  // retention to -1 otherwise).
  bool compact = false;
  // delete.retention.ms: a tombstone (null value) is removed by the first
  // cleaning that finds every record of its segment older than this
  // (segment max timestamp < now - delete.retention.ms).
  int64_t delete_retention_ms = 86400000;
  // min.cleanable.dirty.ratio: clean when dirty bytes / cleanable bytes >= this.
  double min_cleanable_dirty_ratio = 0.5;
  // min.compaction.lag.ms: segments holding a record newer than this are
  // not cleaned (nor are later ones).
  int64_t min_compaction_lag_ms = 0;
  // max.compaction.lag.ms: a dirty segment whose first batch is older than
  // this is cleaned whatever the dirty ratio.
  int64_t max_compaction_lag_ms = kUnbounded;

  // How old the active segment may get before an append rolls it: segment.ms,
  // or max.compaction.lag.ms if smaller on a compacted log (as Kafka's
  // LogConfig.maxSegmentMs): the cleaner never touches the active segment,
  // so without the roll a slow log's records would wait up to segment.ms.
  int64_t RollMs() const {
    return compact && max_compaction_lag_ms < segment_ms ? max_compaction_lag_ms : segment_ms;
  }

  // InvalidArgument naming the first setting out of range.
  Status Validate() const;
};

}  // namespace sluice::storage
