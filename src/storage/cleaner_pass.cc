#include "storage/cleaner_pass.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "model/record_batch_header.h"
#include "model/record_batch_view.h"
#include "storage/batch_scanner.h"
#include "storage/cleaner_batch.h"
#include "storage/offset_map.h"
#include "storage/saturating.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct Batch {
  const model::RecordBatchHeader& header;
  std::span<const uint8_t> bytes;
  bool readable;  // CRC verified; records may still fail to decode
};

// Calls fn(Batch) for every batch of `seg`, reading through its File.
template <typename Fn>
Status ForEachBatch(const CleanableSegment& seg, const CleanPassOptions& options, Log& log,
                    CleanPassStats* stats, Fn fn) {
  BatchScanner scanner(*seg.file, 0, seg.size);
  std::vector<uint8_t> buf;
  while (true) {
    if (log.cleaning_aborted() || (options.should_stop && options.should_stop())) {
      return Status::Aborted("cleaning stopped");
    }
    Result<std::optional<ScannedBatch>> b = scanner.Next();
    if (!b.ok()) return b.status();
    if (!b->has_value()) return Status::Ok();
    buf.resize((*b)->size());
    SLUICE_RETURN_IF_ERROR(ReadFully(*seg.file, (*b)->position, buf));
    stats->bytes_read += buf.size();
    SLUICE_RETURN_IF_ERROR(fn(Batch{(*b)->header, buf, model::VerifyBatchCrc(buf)}));
  }
}

bool Expired(const CleanableSegment& seg, const CleanerSnapshot& snap) {
  return seg.max_timestamp >= 0 &&
         seg.max_timestamp < SaturatingSub(snap.now_ms, snap.config.delete_retention_ms);
}

}  // namespace

CleanPlan PlanClean(const CleanerSnapshot& snap) {
  CleanPlan plan;
  const LogConfig& c = snap.config;
  while (plan.cleanable < snap.segments.size() &&
         snap.segments[plan.cleanable].max_timestamp <=
             SaturatingSub(snap.now_ms, c.min_compaction_lag_ms)) {
    ++plan.cleanable;
  }
  plan.first_dirty = plan.cleanable;
  for (size_t i = 0; i < plan.cleanable; ++i) {
    const CleanableSegment& s = snap.segments[i];
    plan.cleanable_bytes += s.size;
    if (s.next_offset > snap.clean_end) {
      plan.dirty_bytes += s.size;
      plan.first_dirty = std::min(plan.first_dirty, i);
    }
  }
  if (plan.cleanable_bytes > 0) {
    plan.dirty_ratio =
        static_cast<double>(plan.dirty_bytes) / static_cast<double>(plan.cleanable_bytes);
  }
  bool overdue = false;
  if (plan.first_dirty < plan.cleanable && c.max_compaction_lag_ms != LogConfig::kUnbounded) {
    const int64_t first = snap.segments[plan.first_dirty].first_batch_timestamp;
    overdue = first >= 0 && first < SaturatingSub(snap.now_ms, c.max_compaction_lag_ms);
  }
  const bool tombstones = snap.tombstones_due_ms >= 0 && snap.now_ms >= snap.tombstones_due_ms;
  plan.due = plan.cleanable > 0 &&
             ((plan.dirty_bytes > 0 && plan.dirty_ratio >= c.min_cleanable_dirty_ratio) ||
              overdue || tombstones);
  return plan;
}

Result<CleanPassStats> CleanLogOnce(Log& log, const CleanPassOptions& options) {
  CleanPassStats stats;
  Result<CleanerLease> lease = log.BeginCleaning();
  if (!lease.ok()) return lease.status();
  Result<CleanerSnapshot> snap = log.SnapshotForCleaning(*lease);
  if (!snap.ok()) return snap.status();
  if (!snap->config.compact) return stats;
  CleanPlan plan = PlanClean(*snap);
  stats.dirty_ratio = plan.dirty_ratio;
  if (!plan.due && !(options.force && plan.cleanable > 0)) return stats;
  stats.ran = true;
  const std::vector<CleanableSegment>& segs = snap->segments;

  // Map the dirty segments; the rewrite covers everything below the end of the map.
  OffsetMap map;
  size_t end = plan.cleanable;
  for (size_t i = plan.first_dirty; i < plan.cleanable; ++i) {
    if (i > plan.first_dirty && map.bytes() >= options.max_map_bytes) {
      end = i;
      break;
    }
    SLUICE_RETURN_IF_ERROR(ForEachBatch(segs[i], options, log, &stats, [&](const Batch& b) {
      if (!b.readable || b.header.is_control()) return Status::Ok();
      Result<model::RecordBatchView> view = model::RecordBatchView::Parse(b.bytes);
      if (!view.ok()) return Status::Ok();
      model::RecordIterator it = view->Records();
      model::Record r;
      while (it.Next(&r)) {
        if (r.key) map.Put(*r.key, r.offset);
      }
      return Status::Ok();  // A batch that fails to decode halfway only added keys it holds.
    }));
  }
  const int64_t clean_end = std::max(snap->clean_end, segs[end - 1].next_offset);
  SLUICE_RETURN_IF_ERROR(log.MarkCompactedUpTo(*lease, segs[end - 1].next_offset));

  int64_t tombstones_due = kNever;
  for (size_t i = 0; i < end; ++i) {
    const CleanableSegment& seg = segs[i];
    const bool expire = Expired(seg, *snap);
    bool kept_tombstone = false;
    uint64_t removed = 0, tombstones = 0;
    auto retain = [&](const model::Record& r) {
      if (!r.key) return true;
      std::optional<int64_t> latest = map.Get(*r.key);
      if (latest && *latest > r.offset) return false;
      if (!r.value) {
        if (expire) return false;
        kept_tombstone = true;
      }
      return true;
    };
    // Decide first: most segments of a settled log lose nothing.
    SLUICE_RETURN_IF_ERROR(ForEachBatch(seg, options, log, &stats, [&](const Batch& b) {
      if (!b.readable || b.header.is_control()) return Status::Ok();
      FilterCounts counts;
      Result<FilterOutcome> o = FilterBatch(b.bytes, retain, nullptr, &counts);
      if (o.ok()) removed += static_cast<uint64_t>(counts.dropped);
      return Status::Ok();
    }));
    if (kept_tombstone && seg.max_timestamp >= 0) {
      // A client may have stamped the segment up to INT64_MAX: saturate.
      tombstones_due = std::min(
          tombstones_due,
          SaturatingAdd(SaturatingAdd(seg.max_timestamp, snap->config.delete_retention_ms), 1));
    }
    if (removed == 0) continue;

    Result<std::unique_ptr<Segment>> cleaned = log.CreateCleanedSegment(*lease, seg.base_offset);
    if (!cleaned.ok()) return cleaned.status();
    std::vector<uint8_t> rewritten;
    Status s = ForEachBatch(seg, options, log, &stats, [&](const Batch& b) {
      std::span<const uint8_t> bytes = b.bytes;
      if (b.readable && !b.header.is_control()) {
        const uint64_t tombstones_before = tombstones;
        auto count = [&](const model::Record& r) {
          const bool keep = retain(r);
          if (!keep) {
            ++stats.records_removed;
            if (!r.value) ++tombstones;
          }
          return keep;
        };
        Result<FilterOutcome> o = FilterBatch(b.bytes, count, &rewritten);
        if (!o.ok()) {
          ++stats.batches_kept_unreadable;
          tombstones = tombstones_before;
        } else if (*o == FilterOutcome::kEmpty) {
          return Status::Ok();
        } else if (*o == FilterOutcome::kRewritten) {
          bytes = rewritten;
        }
      } else if (!b.readable) {
        ++stats.batches_kept_unreadable;
      }
      Result<model::RecordBatchHeader> h = model::ParseRecordBatchHeader(bytes);
      if (!h.ok()) return h.status();
      bool unrecoverable = false;
      Result<uint64_t> pos = (*cleaned)->Append(bytes, *h, &unrecoverable);
      return pos.ok() ? Status::Ok() : pos.status();
    });
    if (!s.ok()) {
      log.AbandonCleaned(*lease, std::move(*cleaned));
      return s;
    }
    const uint64_t after = (*cleaned)->size();
    const bool emptied = (*cleaned)->empty();
    SLUICE_RETURN_IF_ERROR(
        log.SwapInCleaned(*lease, seg.segment, std::move(*cleaned), snap->generation));
    stats.tombstones_removed += tombstones;
    stats.bytes_before += seg.size;
    stats.bytes_after += after;
    if (emptied && i > 0) {
      ++stats.segments_deleted;
    } else {
      ++stats.segments_rewritten;
    }
  }
  SLUICE_RETURN_IF_ERROR(
      log.FinishCleaning(*lease, clean_end, tombstones_due == kNever ? -1 : tombstones_due));
  return stats;
}

}  // namespace sluice::storage
