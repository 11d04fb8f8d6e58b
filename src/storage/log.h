// The log of one partition: a directory of segments (segment.h) with the
// partition's offsets, leader-epoch history and durability state.
//
//   log start offset   first readable offset; advanced by retention and
//                      DeleteRecords; persisted (checkpoint.h)
//   log end offset     next offset Append assigns (LEO)
//   flushed offset     everything below is fdatasync'ed; persisted as the
//                      recovery point, so recovery scans only what follows
//   high watermark     set by the owner (the broker: the flushed offset on a
//                      single node; replication later); only stored here
//
// Threading contract:
//   * Every public method is thread-safe; one mutex (mu_) guards the state.
//   * Appends run one at a time under the mutex (the batch's pwrite included,
//     a page-cache copy). The broker should still append to a partition from
//     one thread at a time so that offsets follow its request order.
//   * Flush()/FlushTo() never hold the mutex during fdatasync, so one thread
//     may keep appending while any number of others wait on flushes. Group
//     commit: a waiter whose offset an in-flight flush already covers just
//     waits for it; otherwise it becomes a flusher itself and syncs
//     everything appended so far. Up to kMaxConcurrentFlushes syncs overlap
//     (on the disk we measured, overlapping fdatasyncs finish sooner than
//     serial ones; see docs/benchmarks.md); beyond that, waiters queue. A flush returns OK only
//     once its offset is durable. FlushTogether flushes many logs with one
//     syncfs of their file system: a round of each log whose files the
//     whole-file-system sync covers.
//   * Reads hold the mutex while locating batches (index search plus a few
//     header preads) and return FileSlices that stay readable after retention
//     deletes their segment (each holds its .log open, whatever the file
//     cache does). Bytes of a slice may change if the log is
//     truncated and re-appended while the slice is still queued (as in Kafka).
//   * The log cleaner (log_cleaner.h) reads closed segments without any lock
//     and builds cleaned copies beside them; SwapInCleaned then commits one
//     under mutation_mu_ (file renames, no mu_) and replaces the in-memory
//     segment under mu_ in a pointer swap. Readers' FileSlices of the old
//     segment stay valid (they share its File). Close() aborts a running
//     cleaning and waits for it (cleaner_mu_, taken before mutation_mu_).
//   * TruncateTo, TruncateFullyAndStartAt, AdvanceLogStartOffset,
//     EnforceRetention and Close run one
//     at a time. TruncateTo and Close also wait for running flushes and block
//     new ones; retention and DeleteRecords update memory under the mutex and
//     then persist the new log start and unlink files without it, so appends,
//     reads and flushes continue meanwhile.
//
// Failures: a failed append leaves the log unchanged (partial bytes are cut
// off the segment). If the cut itself fails, or an fdatasync fails (after
// which the page cache state is unknowable), the log is marked failed: every
// later Append/Flush returns the original error until the log is reopened,
// which runs recovery. When flush.messages/flush.ms makes Append flush and
// that flush fails, Append returns the error although the batch was written
// (it is not durable; the log is failed).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/output_chain.h"
#include "base/status.h"
#include "storage/file.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/segment.h"
#include "storage/timestamp_search.h"

namespace sluice::storage {

struct LogOptions {
  FileSystem* fs = FileSystem::Default();
  // Wall-clock milliseconds; tests inject a fake one. Default: system clock.
  std::function<int64_t()> clock;
  // The data directory's clean-shutdown marker was present: trust the files
  // and skip the recovery scan.
  bool clean_shutdown = false;
  // The directory was just created and is empty: nothing to load or
  // recover, so opening skips every probe for existing files.
  bool new_dir = false;
  // Opens and closes the segments' .log descriptors (file_cache.h); null:
  // each segment keeps its own open. Must outlive the log's segments.
  FileCache* file_cache = nullptr;
};

struct AppendResult {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  uint64_t position = 0;      // byte position in the segment file
  int64_t segment_base = 0;   // base offset of that segment
};

struct ReadResult {
  std::vector<FileSlice> slices;  // whole batches, in offset order
  int64_t first_offset = -1;      // base offset of the first batch (-1 if none)
  int64_t next_offset = -1;       // where the next read should start
  uint64_t size_bytes = 0;
};

// A closed segment as the cleaner sees it; fields copied under the log's
// mutex, the .log read through `file` without it (closed segments do not
// change; a truncation into one changes the log's generation).
struct CleanableSegment {
  std::shared_ptr<Segment> segment;
  std::shared_ptr<File> file;
  int64_t base_offset = 0;
  int64_t next_offset = 0;
  uint64_t size = 0;
  int64_t max_timestamp = -1;
  int64_t first_batch_timestamp = -1;
};

// What a cleaning pass may work on, as of one moment (Log::SnapshotForCleaning).
struct CleanerSnapshot {
  LogConfig config;
  int64_t now_ms = 0;  // the log's clock
  // The closed segments wholly below both the high watermark and the flushed
  // offset, in offset order: cleaning never removes a record on the strength
  // of one that a truncation could still take back. Never the active one.
  std::vector<CleanableSegment> segments;
  int64_t clean_end = 0;           // first dirty offset (cleaner_files.h)
  int64_t tombstones_due_ms = -1;  // a kept tombstone may expire from then on; -1: none
  uint64_t generation = 0;         // changes when TruncateTo rewrites history
};

class Log;

// Proof that the holder is the log's only cleaner; see Log::BeginCleaning.
class CleanerLease {
 public:
  CleanerLease(CleanerLease&&) = default;
  CleanerLease& operator=(CleanerLease&&) = default;

 private:
  friend class Log;
  // Holds `mu` (locked by the caller) until the lease goes. A lease outlives
  // the call that took it, which the analysis cannot follow: cleaner_mu_
  // guards no data, it only keeps a second cleaner out.
  explicit CleanerLease(Mutex* mu) : mu_(mu) {}
  struct Unlocker {
    void operator()(Mutex* mu) const NO_THREAD_SAFETY_ANALYSIS { mu->Unlock(); }
  };
  std::unique_ptr<Mutex, Unlocker> mu_;
};

// What one EnforceRetention call deleted.
struct RetentionResult {
  int segments = 0;  // oldest first
  int by_time = 0;   // of those, for retention.ms; the rest for retention.bytes
  uint64_t bytes = 0;
  int64_t log_start_offset = 0;  // after the call
};

struct LogStats {
  uint64_t flush_requests = 0;  // FlushTo calls that had to wait for a sync
  uint64_t flush_syncs = 0;     // sync rounds actually run
};

class Log {
 public:
  static constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();
  static constexpr int kMaxConcurrentFlushes = 4;

  // Opens (or creates) the log in `dir` and recovers it: see the .cc for
  // the exact steps. REQUIRES: `dir` exists.
  static Result<std::unique_ptr<Log>> Open(const std::filesystem::path& dir,
                                           const LogConfig& config, LogOptions options);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends one v2 batch. Sets its base offset (= LEO) and partition leader
  // epoch in `batch` itself (neither is CRC-covered). REQUIRES: `batch` is
  // exactly one validated batch. InvalidArgument if it is malformed, larger
  // than max.message.bytes, or `leader_epoch` is below the latest epoch.
  // Flushes afterwards when flush.messages / flush.ms say so.
  Result<AppendResult> Append(std::span<uint8_t> batch, int32_t leader_epoch);
  // A follower's append of one batch its leader wrote: the batch keeps its
  // base offset and leader epoch (a new epoch enters the epoch history).
  // REQUIRES: `batch` is one whole batch whose CRC the caller checked.
  // InvalidArgument if it starts below the LEO (a gap above it is allowed:
  // the leader's log may be compacted) or its epoch is below the latest.
  Result<AppendResult> AppendAsFollower(std::span<const uint8_t> batch);

  // Whole batches from the one holding `offset`, each with last offset below
  // min(max_offset, LEO), at most `max_bytes` in total except that the first
  // batch is always returned whole. OutOfRange when offset < log start or
  // offset > LEO; an empty result at the end.
  Result<ReadResult> Read(int64_t offset, uint64_t max_bytes, int64_t max_offset = kNoLimit);

  // Calls `fn` with the header of every batch from the one holding `offset`
  // to the end of the log, read through a BatchScanner (one pread per 4-64
  // KiB, not one per batch). For state kept beside the log and rebuilt from
  // it at start-up (idempotent producers).
  Status ForEachBatchHeader(int64_t offset,
                            const std::function<void(const model::RecordBatchHeader&)>& fn);

  // ListOffsets by timestamp: the offset, timestamp and leader epoch of the
  // first record at or above the log start offset whose timestamp >=
  // `timestamp` (records, not batches: compressed batches are decompressed
  // where they must be; timestamp_search.h); nullopt if none. The caller
  // bounds the answer by what it may expose (the high watermark).
  // Locates the segments under the mutex, reads them without it.
  Result<std::optional<TimestampLookup>> FindOffsetByTimestamp(int64_t timestamp);
  // ListOffsets -3 (KIP-734): the first record carrying the log's largest
  // timestamp (in the first segment that has it); nullopt when no record
  // has a timestamp (>= 0).
  Result<std::optional<TimestampLookup>> FindMaxTimestamp();

  // Makes everything appended before the call durable.
  Status Flush();
  // Returns once every offset below `offset` is durable (group commit).
  Status FlushTo(int64_t offset);
  // Flush() of each of `logs` (distinct), made durable by one syncfs per
  // data directory instead of one fdatasync per log: far cheaper when many
  // logs have unflushed data at once (one journal commit for all). Returns
  // each log's status, as its Flush() would.
  static std::vector<Status> FlushTogether(const std::vector<Log*>& logs);
  // Latency-bound logs get their active segment zero-filled `chunk` bytes
  // ahead of the data (Segment::Preallocate), so that their many small
  // fdatasyncs write no inode: done when less than a quarter chunk is left
  // and the last flush round carried under chunk/16 bytes. A busier log's
  // rounds carry enough data that the inode write is noise, and zeroing
  // would double its writes. The zeros are synced here; a failed sync
  // marks the log failed, as a failed flush does. No-op when chunk is 0.
  Status PreallocateIfLatencyBound(uint64_t chunk);
  // flush.ms: flushes when the oldest unflushed append is older than that.
  Status MaybeFlush();
  // Persists the flushed offset as the recovery point (also done on segment
  // roll and Close); the owner may call it periodically.
  Status CheckpointRecoveryPoint();

  // Drops every batch from the one holding `offset` on, in all segments;
  // leader epochs starting there go too. If that batch straddles the log
  // start, the log start moves down to the new end. REQUIRES: offset >= log
  // start.
  Status TruncateTo(int64_t offset);
  // DeleteRecords: raises the log start offset to `offset` (OutOfRange above
  // LEO) and deletes segments that lie wholly below it.
  Status AdvanceLogStartOffset(int64_t offset);
  // A follower whose whole log lies below its leader's log start (it was
  // away while the leader's retention deleted what it would fetch next):
  // drops every segment and the leader-epoch history and starts an empty
  // log at `offset`, as Kafka's truncateFullyAndStartAt. Durable when it
  // returns; a crash part-way leaves a shorter log (or an empty one at the
  // old start), which the next fetch finds out of range again.
  // REQUIRES: offset > log end offset.
  Status TruncateFullyAndStartAt(int64_t offset);
  // Deletes old segments by retention.ms / retention.bytes, never the active
  // one (Kafka's rules: by time while a segment's largest timestamp -- its
  // file's mtime if no record has one -- is older than retention.ms, then by
  // size while what remains is at least retention.bytes). Aborted once the
  // log is closed.
  Result<RetentionResult> EnforceRetention();

  // Takes new settings (AlterConfigs): retention, flush and max.message.bytes
  // apply from the next call; segment settings apply to segments created
  // afterwards (the active segment keeps the limits it was created with).
  void UpdateConfig(const LogConfig& config);
  LogConfig config();

  // Writes indexes, syncs everything, persists the recovery point = LEO.
  // Later calls fail with Aborted. REQUIRES: no call in flight. A running
  // cleaning is aborted first (it notices within one batch).
  Status Close();

  // --- For the log cleaner (log_cleaner.h). ---
  // One cleaner at a time: the lease is held for a whole pass. Aborted once
  // the log is closed. Close() sets cleaning_aborted() and waits for the
  // lease, so a pass must poll cleaning_aborted() and give up promptly.
  // (Unchecked by the analysis: the lease holds cleaner_mu_ past the call.)
  Result<CleanerLease> BeginCleaning() NO_THREAD_SAFETY_ANALYSIS;
  bool cleaning_aborted() const { return closing_.load(std::memory_order_relaxed); }
  Result<CleanerSnapshot> SnapshotForCleaning(const CleanerLease& lease);
  // Persists that segments below `offset` may be rewritten (gaps allowed
  // when recovering them); call before the first SwapInCleaned of a pass.
  Status MarkCompactedUpTo(const CleanerLease& lease, int64_t offset);
  // An empty cleaned copy of the segment at `base` (files suffixed .cleaned)
  // for the cleaner to Append to; AbandonCleaned deletes it.
  Result<std::unique_ptr<Segment>> CreateCleanedSegment(const CleanerLease& lease, int64_t base);
  void AbandonCleaned(const CleanerLease& lease, std::unique_ptr<Segment> cleaned);
  // Replaces the closed segment `old` by `cleaned` (built by
  // Segment::CreateCleaned, files still suffixed .cleaned) with the protocol
  // of cleaner_files.h; an emptied segment other than the first is deleted
  // instead. Aborted (cleaned files discarded, log unchanged) if `old` was
  // deleted or truncated meanwhile, or `generation` is stale. A failure
  // after the commit point marks the log failed; reopening finishes the swap.
  Status SwapInCleaned(const CleanerLease& lease, const std::shared_ptr<Segment>& old,
                       std::unique_ptr<Segment> cleaned, uint64_t generation);
  // Ends a pass: segments below `clean_end` are now clean (persisted), and
  // the earliest time a kept tombstone may expire (-1: none kept).
  Status FinishCleaning(const CleanerLease& lease, int64_t clean_end, int64_t tombstones_due_ms);

  // OffsetForLeaderEpoch: (epoch, end offset) as LeaderEpochCache::EndOffsetFor.
  std::pair<int32_t, int64_t> EndOffsetForEpoch(int32_t epoch);
  std::vector<EpochEntry> epochs();

  void SetHighWatermark(int64_t hw);  // Clamped to [log start, LEO].
  int64_t high_watermark();
  int64_t log_start_offset();
  int64_t log_end_offset();
  int64_t flushed_offset();
  size_t segment_count();
  uint64_t size_bytes();
  std::vector<int64_t> segment_bases();
  LogStats stats();
  // OK, or the error that marked the log failed.
  Status health();
  const std::filesystem::path& dir() const { return dir_; }
  // What opening found and did (recovery truncations, rebuilt indexes,
  // ignored files), for the owner to log.
  const std::vector<std::string>& open_notes() const { return notes_; }

 private:
  struct SegmentEntry {
    std::shared_ptr<Segment> segment;
    bool indexes_unsynced = false;  // rolled, index files written but not synced
  };

  Log(std::filesystem::path dir, const LogConfig& config, LogOptions options);
  // Holds mu_ although no other thread can see the log yet: the analysis
  // then checks Load like every other user of the state.
  Status Load() REQUIRES(mu_);
  // The leader-epoch history from the batch headers (its checkpoint was
  // corrupt): where each higher epoch first appears.
  Status RebuildEpochs() REQUIRES(mu_);
  // Records `batch`'s epoch in `epochs` if it is newer than all there.
  static void NoteBatchEpoch(const model::RecordBatchHeader& batch, LeaderEpochCache* epochs);
  int64_t Now() const { return options_.clock(); }
  // Index into segments_ of the segment that would hold `offset`.
  size_t SegmentFor(int64_t offset) const REQUIRES(mu_);
  Status RollLocked(int64_t now_ms) REQUIRES(mu_);
  // Append and AppendAsFollower: the leader assigns the offset (LEO) and its
  // epoch; a follower keeps the batch's.
  Result<AppendResult> AppendBatch(std::span<uint8_t> batch, int32_t leader_epoch,
                                   bool as_follower) EXCLUDES(mu_);
  // One flush: what must be synced to make everything below `goal` durable.
  struct FlushRound {
    int64_t goal = 0;
    std::optional<EpochSnapshot> epochs;  // to write first, if new
    std::vector<std::pair<std::shared_ptr<Segment>, bool>> work;  // (segment, indexes too)
  };
  // REQUIRES: mu_ held and no exclusive token. Registers the caller as a
  // flusher; it syncs the round's files, then calls FinishFlushRoundLocked.
  FlushRound StartFlushRoundLocked() REQUIRES(mu_);
  // Records the round's outcome (`s`: the syncs' status); releases mu_ while
  // writing the recovery point, and holds it again on return.
  void FinishFlushRoundLocked(const FlushRound& round, const Status& s) REQUIRES(mu_);
  // Drops the first `n` segments and raises the log start; persists and
  // unlinks with mu_ released (held again on return).
  Status DeletePrefix(size_t n, int64_t new_log_start) REQUIRES(mutation_mu_, mu_);
  // TruncateTo's work once the flush token is held.
  Status TruncateLocked(int64_t offset) REQUIRES(mutation_mu_, mu_);
  // TruncateFullyAndStartAt's work once the flush token is held.
  Status TruncateFullyLocked(int64_t offset) REQUIRES(mu_);
  // Index of the closed segment `seg` in segments_, if it is still there.
  std::optional<size_t> FindClosedSegment(const std::shared_ptr<Segment>& seg) const
      REQUIRES(mu_);
  // Writes the recovery point if it grew; serialized by checkpoint_mu_.
  Status WriteRecoveryPoint(int64_t offset, bool allow_lower) EXCLUDES(checkpoint_mu_);
  // Waits for running flushes and keeps new ones out until ReleaseFlushToken.
  void AcquireFlushToken() REQUIRES(mu_);
  void ReleaseFlushToken() REQUIRES(mu_);

  const std::filesystem::path dir_;
  LogConfig config_ GUARDED_BY(mu_);  // UpdateConfig
  LogOptions options_;
  FileSystem* fs_;
  std::vector<std::string> notes_;  // written by Load only

  // Lock order: cleaner_mu_, mutation_mu_, then mu_, then checkpoint_mu_.
  Mutex cleaner_mu_ ACQUIRED_BEFORE(mutation_mu_);  // held by the CleanerLease
  std::atomic<bool> closing_{false};
  // Serializes TruncateTo/AdvanceLogStartOffset/EnforceRetention/Close.
  Mutex mutation_mu_ ACQUIRED_BEFORE(mu_);
  Mutex mu_ ACQUIRED_BEFORE(checkpoint_mu_);
  CondVar flush_cv_;
  std::vector<SegmentEntry> segments_ GUARDED_BY(mu_);  // by base offset; back() is active
  // Set by Load. Its history changes under mu_; Persist() of a snapshot
  // taken under mu_ runs without it (LeaderEpochCache's own lock).
  std::unique_ptr<LeaderEpochCache> epochs_;
  int64_t log_start_ GUARDED_BY(mu_) = 0;
  int64_t leo_ GUARDED_BY(mu_) = 0;
  int64_t hw_ GUARDED_BY(mu_) = 0;
  int64_t flushed_ GUARDED_BY(mu_) = 0;
  Mutex checkpoint_mu_;  // taken alone or after mu_, never before it
  // Last recovery point written; only written under checkpoint_mu_.
  // A missing file reads as 0 (recovery starts at the log's beginning), so
  // an empty log never writes one.
  std::atomic<int64_t> checkpointed_recovery_point_{0};
  uint64_t appended_bytes_ GUARDED_BY(mu_) = 0;          // ever, by Append
  // appended_bytes_ when the last round started.
  uint64_t appended_at_last_round_ GUARDED_BY(mu_) = 0;
  uint64_t last_round_bytes_ GUARDED_BY(mu_) = 0;        // bytes that round covered
  int64_t unflushed_messages_ GUARDED_BY(mu_) = 0;
  int64_t first_unflushed_ms_ GUARDED_BY(mu_) = -1;
  // LEO at the start of each running flush.
  std::vector<int64_t> in_flight_goals_ GUARDED_BY(mu_);
  int active_flushers_ GUARDED_BY(mu_) = 0;  // includes a finishing flusher's checkpoint write
  bool exclusive_ GUARDED_BY(mu_) = false;   // the flush token is held
  bool closed_ GUARDED_BY(mu_) = false;
  Status failed_ GUARDED_BY(mu_);
  // Cleaner state (cleaner_files.h); clean_end_/compacted_end_ persisted.
  int64_t clean_end_ GUARDED_BY(mu_) = 0;
  int64_t compacted_end_ GUARDED_BY(mu_) = 0;
  int64_t tombstones_due_ms_ GUARDED_BY(mu_) = -1;
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  LogStats stats_ GUARDED_BY(mu_);
};

}  // namespace sluice::storage
