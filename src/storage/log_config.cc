#include "storage/log_config.h"

#include <string>

namespace sluice::storage {

Status LogConfig::Validate() const {
  // Positions in the offset index are 32-bit, hence the segment.bytes cap.
  if (segment_bytes < 14 || segment_bytes > std::numeric_limits<int32_t>::max()) {
    return Status::InvalidArgument("segment.bytes out of range: " + std::to_string(segment_bytes));
  }
  if (segment_ms < 1) return Status::InvalidArgument("segment.ms must be positive");
  if (retention_ms < -1) return Status::InvalidArgument("retention.ms must be >= -1");
  if (retention_bytes < -1) return Status::InvalidArgument("retention.bytes must be >= -1");
  if (flush_messages < 1) return Status::InvalidArgument("flush.messages must be positive");
  if (flush_ms < 0) return Status::InvalidArgument("flush.ms must be >= 0");
  if (index_interval_bytes < 0) {
    return Status::InvalidArgument("index.interval.bytes must be >= 0");
  }
  if (segment_index_bytes < 12) {
    return Status::InvalidArgument("segment.index.bytes must hold at least one entry");
  }
  if (max_message_bytes < 61) return Status::InvalidArgument("max.message.bytes below a header");
  if (delete_retention_ms < 0) return Status::InvalidArgument("delete.retention.ms must be >= 0");
  if (!(min_cleanable_dirty_ratio >= 0 && min_cleanable_dirty_ratio <= 1)) {
    return Status::InvalidArgument("min.cleanable.dirty.ratio must be in [0, 1]");
  }
  if (min_compaction_lag_ms < 0) {
    return Status::InvalidArgument("min.compaction.lag.ms must be >= 0");
  }
  if (max_compaction_lag_ms < 1) {
    return Status::InvalidArgument("max.compaction.lag.ms must be positive");
  }
  return Status::Ok();
}

}  // namespace sluice::storage
