// Log compaction on real files: what a pass keeps (latest value per key at
// its original offset, tombstones until delete.retention.ms), when it runs
// (dirty ratio, compaction lags), compressed and idempotent batches, crashes
// at every step of the swap protocol and kill -9 mid-pass, and appends and
// reads racing the cleaner.
#include "storage/log_cleaner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "model/record_batch_builder.h"
#include "model/record_batch_view.h"
#include "storage/cleaner_batch.h"
#include "storage/cleaner_files.h"
#include "storage/cleaner_pass.h"
#include "storage/log_test_util.h"
#include "support/temp_dir.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
using model::Compression;
using sluice::testing::TempDir;
using namespace sluice::storage::testing;

struct KV {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

struct Rec {
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  auto operator<=>(const Rec&) const = default;
};

std::vector<uint8_t> BuildBatch(const std::vector<KV>& kvs, int64_t ts,
                                Compression codec = Compression::kNone,
                                model::RecordBatchOptions options = {}) {
  options.compression = codec;
  model::RecordBatchBuilder b(options);
  for (const KV& kv : kvs) {
    std::optional<model::Bytes> value;
    if (kv.value) value = model::AsBytes(*kv.value);
    b.Add(ts, model::AsBytes(kv.key), value);
  }
  return b.Build().value();
}

// Every record from the log start on, checking each batch's CRC.
std::vector<Rec> ReadAll(Log& log) {
  std::vector<Rec> out;
  Result<ReadResult> r = log.Read(log.log_start_offset(), uint64_t{1} << 30);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  std::vector<uint8_t> bytes = SliceBytes(*r);
  size_t pos = 0;
  while (pos < bytes.size()) {
    std::span<const uint8_t> rest(bytes.data() + pos, bytes.size() - pos);
    Result<model::RecordBatchView> view = model::RecordBatchView::Parse(rest);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    if (!view.ok()) break;
    EXPECT_TRUE(model::VerifyBatchCrc(view->bytes()));
    model::RecordIterator it = view->Records();
    model::Record rec;
    while (it.Next(&rec)) {
      Rec x{rec.offset, std::nullopt, std::nullopt};
      if (rec.key) x.key = std::string(model::AsStringView(*rec.key));
      if (rec.value) x.value = std::string(model::AsStringView(*rec.value));
      out.push_back(x);
    }
    EXPECT_TRUE(it.status().ok()) << it.status().ToString();
    pos += view->header().size_bytes();
  }
  return out;
}

// `got` is a correct compaction of `original` (nothing expired): a subset at
// the same offsets, increasing, keeping the latest record of every key, and
// dropping only records a later record of their key supersedes.
void ExpectValidCompaction(const std::vector<Rec>& original, const std::vector<Rec>& got,
                           const std::string& what) {
  std::map<int64_t, const Rec*> by_offset;
  std::map<std::string, int64_t> latest;
  for (const Rec& r : original) {
    by_offset[r.offset] = &r;
    if (r.key) latest[*r.key] = std::max(latest[*r.key], r.offset);
  }
  std::set<int64_t> seen;
  int64_t prev = -1;
  for (const Rec& r : got) {
    ASSERT_GT(r.offset, prev) << what << ": offsets not increasing (duplicate?)";
    prev = r.offset;
    auto it = by_offset.find(r.offset);
    ASSERT_NE(it, by_offset.end()) << what << ": unknown offset " << r.offset;
    EXPECT_EQ(*it->second, r) << what;
    seen.insert(r.offset);
  }
  for (const Rec& r : original) {
    if (seen.contains(r.offset)) continue;
    ASSERT_TRUE(r.key) << what << ": keyless record lost at " << r.offset;
    EXPECT_GT(latest[*r.key], r.offset) << what << ": latest record of " << *r.key << " lost";
    EXPECT_TRUE(seen.contains(latest[*r.key])) << what;
  }
}

std::vector<uint8_t> FileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Fails every mutating file-system call once its budget is spent: the state
// left is the one a crash at that step would leave (every earlier step was
// synced by the protocol before the next began).
class CrashingFileSystem : public ForwardingFileSystem {
 public:
  CrashingFileSystem() : ForwardingFileSystem(FileSystem::Default()) {}
  void CrashAfter(int ops) { budget_ = ops; }
  bool crashed() const { return crashed_; }
  int ops() const { return ops_; }

  Result<std::shared_ptr<File>> Open(const fs::path& p, bool create) override {
    if (create) SLUICE_RETURN_IF_ERROR(Spend());
    return ForwardingFileSystem::Open(p, create);
  }
  Status Rename(const fs::path& f, const fs::path& t) override {
    SLUICE_RETURN_IF_ERROR(Spend());
    return ForwardingFileSystem::Rename(f, t);
  }
  Status Remove(const fs::path& p) override {
    SLUICE_RETURN_IF_ERROR(Spend());
    return ForwardingFileSystem::Remove(p);
  }
  Status SyncDir(const fs::path& d) override {
    SLUICE_RETURN_IF_ERROR(Spend());
    return ForwardingFileSystem::SyncDir(d);
  }

 private:
  Status Spend() {
    ++ops_;
    if (budget_ < 0) return Status::Ok();
    if (budget_ == 0) {
      crashed_ = true;
      return Status::IOError("simulated crash");
    }
    --budget_;
    return Status::Ok();
  }
  int budget_ = -1;
  int ops_ = 0;
  bool crashed_ = false;
};

class LogCleanerTest : public ::testing::Test {
 protected:
  LogCleanerTest() {
    config_.segment_bytes = 1024;
    config_.index_interval_bytes = 128;
    config_.compact = true;
    config_.retention_ms = -1;
  }

  std::unique_ptr<Log> OpenLog(const fs::path& dir, FileSystem* fs = FileSystem::Default()) {
    return OpenLogOrFail(dir, config_, {fs, clock_.fn(), false});
  }

  AppendResult Put(Log& log, const std::vector<KV>& kvs, Compression codec = Compression::kNone,
                   model::RecordBatchOptions options = {}) {
    std::vector<uint8_t> b = BuildBatch(kvs, clock_.now(), codec, options);
    Result<AppendResult> r = log.Append(b, 0);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AppendResult{};
  }

  // `n` records over keys k0..k<keys-1>, 1-4 per batch, value "v<i>".
  void Fill(Log& log, int n, int keys, Compression codec = Compression::kNone, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    int i = 0;
    while (i < n) {
      std::vector<KV> kvs;
      const int count = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < count && i < n; ++j, ++i) {
        kvs.push_back({"k" + std::to_string(rng() % static_cast<uint32_t>(keys)),
                       "v" + std::to_string(i) + std::string(rng() % 20, 'x')});
      }
      Put(log, kvs, codec);
    }
  }

  // Makes everything appended cleanable: durable and below the high watermark.
  static void Settle(Log& log) {
    ASSERT_TRUE(log.Flush().ok());
    log.SetHighWatermark(log.flushed_offset());
  }

  static CleanPassStats Clean(Log& log, bool force = false) {
    CleanPassOptions o;
    o.force = force;
    Result<CleanPassStats> r = CleanLogOnce(log, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CleanPassStats{};
  }

  // What one full pass must leave: below `end` only the latest record of
  // each key (keyless records stay), everything from `end` on.
  static std::vector<Rec> Compacted(const std::vector<Rec>& all, int64_t end) {
    std::map<std::string, int64_t> latest;
    for (const Rec& r : all) {
      if (r.key && r.offset < end) latest[*r.key] = r.offset;
    }
    std::vector<Rec> out;
    for (const Rec& r : all) {
      if (r.offset >= end || !r.key || latest[*r.key] == r.offset) out.push_back(r);
    }
    return out;
  }

  FakeClock clock_;
  LogConfig config_;
};

TEST_F(LogCleanerTest, ManyUpdatesToFewKeysShrinkToTheLatestPerKeyAtTheirOffsets) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  Fill(*log, 300, 8);
  {
    model::RecordBatchBuilder b;
    b.Add(clock_.now(), std::nullopt, model::AsBytes("keyless records are kept"));
    std::vector<uint8_t> batch = b.Build().value();
    ASSERT_TRUE(log->Append(batch, 0).ok());
  }
  Fill(*log, 300, 8, Compression::kNone, 2);
  Settle(*log);
  const std::vector<Rec> before = ReadAll(*log);
  const int64_t end = log->segment_bases().back();  // the active segment is never cleaned
  const uint64_t size_before = log->size_bytes();
  const size_t segments_before = log->segment_count();
  ASSERT_GT(segments_before, 10u);

  CleanPassStats stats = Clean(*log);
  EXPECT_TRUE(stats.ran);
  EXPECT_GT(stats.records_removed, 500u);
  const std::vector<Rec> after = ReadAll(*log);
  EXPECT_EQ(after, Compacted(before, end));
  EXPECT_LT(log->size_bytes(), size_before / 4);
  EXPECT_LT(log->segment_count(), segments_before);  // emptied segments are deleted
  EXPECT_EQ(log->log_start_offset(), 0);
  EXPECT_EQ(log->log_end_offset(), before.back().offset + 1);

  // A fetch from a removed offset returns the next kept record (a batch
  // keeps its last offset delta, so it may come after records below the
  // fetch offset, which clients skip, as with Kafka).
  std::set<int64_t> kept;
  for (const Rec& r : after) kept.insert(r.offset);
  for (int64_t o = 0; o < log->log_end_offset(); ++o) {
    Result<ReadResult> r = log->Read(o, 4096);
    ASSERT_TRUE(r.ok()) << o;
    std::vector<uint8_t> bytes = SliceBytes(*r);
    int64_t first = -1;
    for (size_t pos = 0; pos < bytes.size() && first < 0;) {
      auto view = model::RecordBatchView::Parse(std::span(bytes).subspan(pos)).value();
      EXPECT_GE(view.header().last_offset(), o);
      model::RecordIterator it = view.Records();
      model::Record rec;
      while (it.Next(&rec)) {
        if (rec.offset >= o) {
          first = rec.offset;
          break;
        }
      }
      pos += view.header().size_bytes();
    }
    EXPECT_EQ(first, *kept.lower_bound(o)) << "fetch at " << o;
  }

  // A second pass finds nothing more to do; appends go on at the LEO.
  EXPECT_FALSE(Clean(*log).ran);
  EXPECT_EQ(Put(*log, {{"k1", "new"}}).base_offset, before.back().offset + 1);

  // Reopening with a full recovery scan accepts the gaps cleaning left.
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  fs::remove(dir.path() / "recovery-point-offset-checkpoint");
  auto reopened = OpenLog(dir.path());
  std::vector<Rec> expected = after;
  expected.push_back({before.back().offset + 1, "k1", "new"});
  EXPECT_EQ(ReadAll(*reopened), expected);
  EXPECT_TRUE(reopened->open_notes().empty() ||
              reopened->open_notes().front().find("truncated") == std::string::npos);
}

TEST_F(LogCleanerTest, TombstonesStayUntilDeleteRetentionThenGo) {
  config_.delete_retention_ms = 60'000;
  TempDir dir;
  auto log = OpenLog(dir.path());
  Put(*log, {{"a", "a1"}, {"b", "b1"}, {"c", "c1"}});
  Put(*log, {{"a", std::nullopt}, {"b", "b2"}});
  Fill(*log, 60, 3);  // keys k0..k2: pushes the tombstone out of the active segment
  Settle(*log);
  Clean(*log);
  std::vector<Rec> after = ReadAll(*log);
  auto has = [&](const std::vector<Rec>& recs, const Rec& r) {
    return std::find(recs.begin(), recs.end(), r) != recs.end();
  };
  EXPECT_TRUE(has(after, {3, "a", std::nullopt})) << "tombstone removed too early";
  EXPECT_FALSE(has(after, {0, "a", "a1"})) << "value under a tombstone kept";
  EXPECT_FALSE(has(after, {1, "b", "b1"}));
  EXPECT_TRUE(has(after, {4, "b", "b2"}));
  EXPECT_TRUE(has(after, {2, "c", "c1"}));

  clock_.Advance(59'000);
  EXPECT_FALSE(Clean(*log).ran);  // nothing dirty, tombstone not due yet
  EXPECT_TRUE(has(ReadAll(*log), {3, "a", std::nullopt}));

  clock_.Advance(2'000);  // now past delete.retention.ms: due without new data
  CleanPassStats stats = Clean(*log);
  EXPECT_TRUE(stats.ran);
  EXPECT_EQ(stats.tombstones_removed, 1u);
  after = ReadAll(*log);
  for (const Rec& r : after) EXPECT_NE(r.key, "a") << r.offset;
  EXPECT_TRUE(has(after, {4, "b", "b2"}));
  EXPECT_TRUE(has(after, {2, "c", "c1"}));
}

TEST_F(LogCleanerTest, DirtyRatioBelowTheMinimumCleansNothing) {
  config_.min_cleanable_dirty_ratio = 0.9;
  TempDir dir;
  auto log = OpenLog(dir.path());
  Fill(*log, 400, 200, Compression::kNone, 3);  // mostly distinct keys: little to remove
  Settle(*log);
  EXPECT_TRUE(Clean(*log).ran);  // everything dirty: ratio 1
  // A little more: the dirty part is far below 90% of the cleanable bytes.
  Fill(*log, 40, 5, Compression::kNone, 4);
  Settle(*log);
  const std::vector<Rec> before = ReadAll(*log);
  CleanPassStats stats = Clean(*log);
  EXPECT_FALSE(stats.ran);
  EXPECT_GT(stats.dirty_ratio, 0.0);
  EXPECT_LT(stats.dirty_ratio, 0.9);
  EXPECT_EQ(ReadAll(*log), before);
  // A lower ratio (AlterConfigs) lets the same log be cleaned.
  config_.min_cleanable_dirty_ratio = 0.01;
  log->UpdateConfig(config_);
  EXPECT_TRUE(Clean(*log).ran);
}

TEST_F(LogCleanerTest, MinCompactionLagKeepsYoungSegmentsOutOfThePass) {
  config_.min_compaction_lag_ms = 10'000;
  TempDir dir;
  auto log = OpenLog(dir.path());
  Fill(*log, 300, 4);
  Settle(*log);
  const std::vector<Rec> before = ReadAll(*log);
  EXPECT_FALSE(Clean(*log).ran);  // every record younger than the lag
  EXPECT_EQ(ReadAll(*log), before);
  clock_.Advance(10'001);
  EXPECT_TRUE(Clean(*log).ran);
  EXPECT_EQ(ReadAll(*log), Compacted(before, log->segment_bases().back()));
}

TEST(CleanPlanTest, RatioLagsAndTombstonesDecideWhetherALogIsDue) {
  CleanerSnapshot snap;
  snap.now_ms = 100'000;
  snap.config.compact = true;
  snap.config.min_cleanable_dirty_ratio = 0.5;
  // Three closed segments of 100 bytes; records at 10s, 50s and 95s.
  snap.segments = {{nullptr, nullptr, 0, 10, 100, 10'000, 9'000},
                   {nullptr, nullptr, 10, 20, 100, 50'000, 40'000},
                   {nullptr, nullptr, 20, 30, 100, 95'000, 90'000}};
  snap.clean_end = 10;  // the first segment is clean
  CleanPlan p = PlanClean(snap);
  EXPECT_EQ(p.cleanable, 3u);
  EXPECT_EQ(p.first_dirty, 1u);
  EXPECT_DOUBLE_EQ(p.dirty_ratio, 200.0 / 300.0);
  EXPECT_TRUE(p.due);

  snap.config.min_cleanable_dirty_ratio = 0.7;
  EXPECT_FALSE(PlanClean(snap).due);
  // min.compaction.lag.ms cuts the young last segment out.
  snap.config.min_cleanable_dirty_ratio = 0.5;
  snap.config.min_compaction_lag_ms = 10'000;
  p = PlanClean(snap);
  EXPECT_EQ(p.cleanable, 2u);
  EXPECT_DOUBLE_EQ(p.dirty_ratio, 0.5);
  EXPECT_TRUE(p.due);
  snap.config.min_compaction_lag_ms = 60'000;
  EXPECT_EQ(PlanClean(snap).cleanable, 1u);
  EXPECT_FALSE(PlanClean(snap).due);  // nothing dirty left in the cleanable part
  snap.config.min_compaction_lag_ms = 0;

  // max.compaction.lag.ms: the first dirty segment's first batch (40s) is too old.
  snap.config.min_cleanable_dirty_ratio = 0.9;
  EXPECT_FALSE(PlanClean(snap).due);
  snap.config.max_compaction_lag_ms = 70'000;
  EXPECT_FALSE(PlanClean(snap).due);
  snap.config.max_compaction_lag_ms = 50'000;
  EXPECT_TRUE(PlanClean(snap).due);
  snap.config.max_compaction_lag_ms = LogConfig::kUnbounded;

  // Everything clean: due only once a kept tombstone may expire.
  snap.clean_end = 30;
  EXPECT_FALSE(PlanClean(snap).due);
  snap.tombstones_due_ms = 100'001;
  EXPECT_FALSE(PlanClean(snap).due);
  snap.tombstones_due_ms = 100'000;
  EXPECT_TRUE(PlanClean(snap).due);
}

TEST_F(LogCleanerTest, CompressedBatchesAreFilteredAndRecompressedWithTheirCodec) {
  for (Compression codec : {Compression::kLz4, Compression::kZstd, Compression::kGzip}) {
    SCOPED_TRACE(static_cast<int>(codec));
    TempDir dir;
    auto log = OpenLog(dir.path());
    Fill(*log, 500, 6, codec);
    Settle(*log);
    const std::vector<Rec> before = ReadAll(*log);
    Clean(*log);
    EXPECT_EQ(ReadAll(*log), Compacted(before, log->segment_bases().back()));
    Result<ReadResult> r = log->Read(0, 1 << 30);
    for (const model::RecordBatchHeader& h : Batches(SliceBytes(*r))) {
      EXPECT_EQ(h.compression(), codec);
    }
  }
}

TEST_F(LogCleanerTest, RewrittenBatchKeepsItsHeaderFields) {
  model::RecordBatchOptions o;
  o.producer_id = 77;
  o.producer_epoch = 3;
  o.base_sequence = 100;
  o.base_offset = 500;
  std::vector<uint8_t> batch =
      BuildBatch({{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}}, 1234, Compression::kLz4, o);
  auto original = model::ParseRecordBatchHeader(batch).value();
  std::vector<uint8_t> out;
  auto drop_first_a = [](const model::Record& r) { return r.offset != 500; };
  ASSERT_EQ(FilterBatch(batch, drop_first_a, &out).value(), FilterOutcome::kRewritten);
  auto h = model::ParseRecordBatchHeader(out).value();
  EXPECT_TRUE(model::VerifyBatchCrc(out));
  EXPECT_EQ(h.base_offset, 500);
  EXPECT_EQ(h.last_offset_delta, original.last_offset_delta);
  EXPECT_EQ(h.producer_id, 77);
  EXPECT_EQ(h.producer_epoch, 3);
  EXPECT_EQ(h.base_sequence, 100);
  EXPECT_EQ(h.base_timestamp, original.base_timestamp);
  EXPECT_EQ(h.max_timestamp, original.max_timestamp);
  EXPECT_EQ(h.attributes, original.attributes);
  EXPECT_EQ(h.record_count, 3);
  auto view = model::RecordBatchView::Parse(out).value();
  model::RecordIterator it = view.Records();
  model::Record r;
  std::vector<int64_t> offsets;
  while (it.Next(&r)) {
    offsets.push_back(r.offset);
    EXPECT_EQ(r.timestamp, 1234);
  }
  EXPECT_EQ(offsets, (std::vector<int64_t>{501, 502, 503}));
  EXPECT_EQ(FilterBatch(
                batch, [](const model::Record&) { return true; }, &out)
                .value(),
            FilterOutcome::kUnchanged);
  EXPECT_EQ(FilterBatch(
                batch, [](const model::Record&) { return false; }, &out)
                .value(),
            FilterOutcome::kEmpty);
}

// Every prefix of the pass's file operations, then a crash: reopening finds
// a correct compaction (or the original), never a lost or doubled record.
TEST_F(LogCleanerTest, CrashAtEveryStepOfThePassLosesNothing) {
  TempDir base;
  {
    auto log = OpenLog(base.path());
    Fill(*log, 100, 5);  // a few segments: each adds ~10 crash points
    ASSERT_TRUE(log->Close().ok());
  }
  std::vector<Rec> original;
  {
    TempDir copy;
    fs::copy(base.path(), copy.path(), fs::copy_options::recursive);
    original = ReadAll(*OpenLog(copy.path()));
  }
  int steps = 0;
  for (int k = 0; k < 1000; ++k) {
    TempDir copy;
    fs::copy(base.path(), copy.path(), fs::copy_options::recursive);
    CrashingFileSystem crashing;
    {
      auto log = OpenLog(copy.path(), &crashing);
      ASSERT_TRUE(log);
      crashing.CrashAfter(k);
      CleanPassOptions o;
      Result<CleanPassStats> r = CleanLogOnce(*log, o);
      if (!crashing.crashed()) {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        steps = k;
        break;
      }
      // Dropped without Close: the process is gone.
    }
    const std::string what = "crash after " + std::to_string(k) + " operations";
    auto reopened = OpenLog(copy.path());
    ASSERT_TRUE(reopened) << what;
    ExpectValidCompaction(original, ReadAll(*reopened), what);
    EXPECT_EQ(reopened->log_end_offset(), original.back().offset + 1) << what;
    for (const auto& e : fs::directory_iterator(copy.path())) {
      const std::string name = e.path().filename().string();
      EXPECT_FALSE(name.ends_with(".cleaned") || name.ends_with(".swap")) << what << ": " << name;
    }
    // The next pass completes the job.
    reopened->SetHighWatermark(reopened->log_end_offset());
    Clean(*reopened, /*force=*/true);
    EXPECT_EQ(ReadAll(*reopened), Compacted(original, reopened->segment_bases().back())) << what;
  }
  EXPECT_GT(steps, 10) << "the pass never got past the crash points";
  RecordProperty("crash_points", steps);
}

// Leftovers written by hand: the states a crash (or a reordering of
// un-synced renames) can leave on disk.
TEST_F(LogCleanerTest, LeftoverCleanedAndSwapFilesAreDiscardedOrFinished) {
  TempDir original_dir, cleaned_dir;
  {
    auto log = OpenLog(original_dir.path());
    Fill(*log, 300, 5);
    ASSERT_TRUE(log->Close().ok());
  }
  fs::copy(original_dir.path(), cleaned_dir.path(), fs::copy_options::recursive);
  std::vector<Rec> original, compacted;
  std::vector<int64_t> bases;
  {
    auto log = OpenLog(cleaned_dir.path());
    original = ReadAll(*log);
    bases = log->segment_bases();
    Clean(*log, true);
    compacted = ReadAll(*log);
    ASSERT_TRUE(log->Close().ok());
  }
  // The first segment is never deleted, so it has a cleaned copy.
  const int64_t b = bases.front();
  const fs::path cleaned_log = cleaned_dir.path() / SegmentFileName(b, ".log");
  const fs::path cleaned_index = cleaned_dir.path() / SegmentFileName(b, ".index");
  ASSERT_LT(fs::file_size(cleaned_log),
            fs::file_size(original_dir.path() / SegmentFileName(b, ".log")));

  struct Case {
    std::string name;
    std::function<void(const fs::path&)> make;
    bool swapped;  // segment b must read as its cleaned copy
  };
  auto name = [&](const char* ext, const char* suffix) { return SegmentFileName(b, ext) + suffix; };
  auto checkpoint = [&](const fs::path& d) {
    fs::copy_file(cleaned_dir.path() / kCleanerCheckpoint, d / kCleanerCheckpoint,
                  fs::copy_options::overwrite_existing);
  };
  const std::vector<Case> cases = {
      {"garbage .cleaned files",
       [&](const fs::path& d) {
         WriteBytes(d / name(".log", ".cleaned"), FileBytes(cleaned_log));
         WriteBytes(d / name(".index", ".cleaned"), {1, 2, 3});
       },
       false},
      {"index .swap without the .log.swap",
       [&](const fs::path& d) {
         checkpoint(d);
         WriteBytes(d / name(".index", ".swap"), FileBytes(cleaned_index));
         WriteBytes(d / name(".log", ".cleaned"), FileBytes(cleaned_log));
       },
       false},
      {"committed, old segment intact",
       [&](const fs::path& d) {
         checkpoint(d);
         WriteBytes(d / name(".log", ".swap"), FileBytes(cleaned_log));
         WriteBytes(d / name(".index", ".swap"), FileBytes(cleaned_index));
         WriteBytes(d / name(".timeindex", ".cleaned"), {9, 9});
       },
       true},
      {"committed, old segment partly deleted",
       [&](const fs::path& d) {
         checkpoint(d);
         WriteBytes(d / name(".log", ".swap"), FileBytes(cleaned_log));
         fs::remove(d / SegmentFileName(b, ".index"));
         fs::remove(d / SegmentFileName(b, ".log"));
       },
       true},
      {"committed, indexes already renamed, old .log gone",
       [&](const fs::path& d) {
         checkpoint(d);
         WriteBytes(d / name(".log", ".swap"), FileBytes(cleaned_log));
         fs::remove(d / SegmentFileName(b, ".log"));
         WriteBytes(d / SegmentFileName(b, ".index"), FileBytes(cleaned_index));
       },
       true},
      {"swap finished but an index rename lost",
       [&](const fs::path& d) {
         checkpoint(d);
         WriteBytes(d / SegmentFileName(b, ".log"), FileBytes(cleaned_log));
         fs::remove(d / SegmentFileName(b, ".index"));
         fs::remove(d / SegmentFileName(b, ".timeindex"));
         WriteBytes(d / name(".index", ".swap"), FileBytes(cleaned_index));
       },
       true},
  };
  const int64_t b_end = bases[1];
  for (const Case& c : cases) {
    TempDir d;
    fs::copy(original_dir.path(), d.path(), fs::copy_options::recursive);
    c.make(d.path());
    auto log = OpenLog(d.path());
    ASSERT_TRUE(log) << c.name;
    std::vector<Rec> got = ReadAll(*log);
    ExpectValidCompaction(original, got, c.name);
    std::vector<Rec> want;  // segment b as expected, the rest original
    for (const Rec& r : c.swapped ? compacted : original) {
      if (r.offset < b_end) want.push_back(r);
    }
    for (const Rec& r : original) {
      if (r.offset >= b_end) want.push_back(r);
    }
    EXPECT_EQ(got, want) << c.name;
    for (const auto& e : fs::directory_iterator(d.path())) {
      const std::string n = e.path().filename().string();
      EXPECT_FALSE(n.ends_with(".cleaned") || n.ends_with(".swap")) << c.name << ": " << n;
    }
  }
}

TEST_F(LogCleanerTest, ReadersKeepTheirSlicesAcrossASwap) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  Fill(*log, 300, 3);
  Settle(*log);
  Result<ReadResult> held = log->Read(0, 1 << 20);
  ASSERT_TRUE(held.ok());
  const std::vector<uint8_t> bytes = SliceBytes(*held);
  EXPECT_TRUE(Clean(*log).ran);
  EXPECT_EQ(SliceBytes(*held), bytes);  // the old, unlinked files are still open
}

TEST_F(LogCleanerTest, AppendsAndReadsContinueWhileTheCleanerRuns) {
  config_.segment_bytes = 2048;
  config_.min_cleanable_dirty_ratio = 0.2;
  TempDir dir;
  auto log = OpenLog(dir.path());
  std::atomic<bool> done{false};
  std::map<std::string, std::string> last;  // written by the writer only
  std::thread writer([&] {
    std::mt19937 rng(5);
    for (int i = 0; i < 4000; ++i) {
      std::string key = "k" + std::to_string(rng() % 20);
      std::string value = "v" + std::to_string(i);
      std::vector<uint8_t> b = BuildBatch({{key, value}}, clock_.now(),
                                          i % 3 == 0 ? Compression::kLz4 : Compression::kNone);
      ASSERT_TRUE(log->Append(b, 0).ok());
      last[key] = value;
      if (i % 16 == 0) {
        ASSERT_TRUE(log->Flush().ok());
        log->SetHighWatermark(log->flushed_offset());
      }
    }
    ASSERT_TRUE(log->Flush().ok());
    log->SetHighWatermark(log->flushed_offset());
    done = true;
  });
  std::atomic<int> reads{0};
  std::thread reader([&] {
    std::mt19937 rng(6);
    std::vector<ReadResult> held;
    while (!done) {
      const int64_t end = log->log_end_offset();
      const int64_t from = end == 0 ? 0 : static_cast<int64_t>(rng() % static_cast<uint64_t>(end));
      Result<ReadResult> r = log->Read(from, 8192);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      int64_t prev = -1;
      for (const model::RecordBatchHeader& h : Batches(SliceBytes(*r))) {
        EXPECT_GT(h.base_offset, prev);
        EXPECT_GE(h.last_offset(), from);
        prev = h.last_offset();
      }
      if (held.size() < 50) held.push_back(*r);
      ++reads;
    }
    for (const ReadResult& r : held) Batches(SliceBytes(r));  // still whole batches
  });
  int passes = 0;
  while (!done) {
    Result<CleanPassStats> r = CleanLogOnce(*log, {});
    ASSERT_TRUE(r.ok() || r.status().code() == StatusCode::kAborted) << r.status().ToString();
    if (r.ok() && r->ran) {
      ++passes;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  writer.join();
  reader.join();
  Clean(*log, true);
  std::map<std::string, std::string> latest;
  int64_t prev = -1;
  for (const Rec& r : ReadAll(*log)) {
    EXPECT_GT(r.offset, prev);
    prev = r.offset;
    latest[*r.key] = *r.value;
  }
  EXPECT_EQ(latest, last);
  EXPECT_GT(passes, 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(log->log_end_offset(), 4000);
}

class LogCleanerThreadTest : public LogCleanerTest {
 protected:
  std::unique_ptr<LogManager> OpenManager(const fs::path& dir) {
    LogManagerOptions o;
    o.clock = clock_.fn();
    o.default_config = config_;
    return LogManager::Open({dir}, o).value();
  }
};

TEST_F(LogCleanerThreadTest, BackgroundThreadsCleanCompactedLogsAndStopPromptly) {
  TempDir dir;
  auto m = OpenManager(dir.path());
  LogConfig plain = config_;
  plain.compact = false;
  auto compacted = m->Create({"c", 0}, config_).value();
  auto other = m->Create({"d", 0}, plain).value();
  for (Log* l : {compacted.get(), other.get()}) {
    Fill(*l, 300, 4);
    Settle(*l);
  }
  const size_t other_size = other->size_bytes();
  const std::vector<Rec> before = ReadAll(*compacted);
  LogCleaner cleaner(m.get(), {.threads = 2, .backoff_ms = 60'000});
  cleaner.Start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (cleaner.stats().passes == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(cleaner.stats().passes, 1u);
  EXPECT_EQ(ReadAll(*compacted), Compacted(before, compacted->segment_bases().back()));
  EXPECT_EQ(other->size_bytes(), other_size);  // cleanup.policy=delete: untouched

  // New dirty data and a wakeup: cleaned without waiting out the backoff.
  Fill(*compacted, 300, 4, Compression::kNone, 2);
  Settle(*compacted);
  cleaner.Wakeup();
  while (cleaner.stats().passes < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(cleaner.stats().passes, 2u);
  const auto t0 = std::chrono::steady_clock::now();
  cleaner.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(cleaner.stats().errors, 0u) << cleaner.stats().last_error;
  ASSERT_TRUE(m->Close().ok());
}

TEST_F(LogCleanerThreadTest, DeletingALogWhileItIsCleanedIsSafe) {
  config_.segment_bytes = 64 * 1024;
  TempDir dir;
  auto m = OpenManager(dir.path());
  for (int round = 0; round < 4; ++round) {
    const TopicPartition tp{"t" + std::to_string(round), 0};
    auto log = m->Create(tp, config_).value();
    Fill(*log, 20000, 50, Compression::kNone, static_cast<uint32_t>(round));
    Settle(*log);
    LogCleaner cleaner(m.get(), {.threads = 1, .backoff_ms = 0});
    cleaner.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(round * 7));
    ASSERT_TRUE(m->Delete(tp).ok());
    EXPECT_FALSE(fs::exists(dir.path() / tp.DirName()));
    std::vector<uint8_t> batch = BuildBatch({{"k", "v"}}, 1);
    EXPECT_FALSE(log->Append(batch, 0).ok());  // closed
    cleaner.Stop();
    EXPECT_EQ(cleaner.stats().errors, 0u) << cleaner.stats().last_error;
  }
  ASSERT_TRUE(m->Close().ok());
}

// kill -9 of a process that appends and cleans in a loop: after reopening,
// every key's latest flushed record (or a later one of the key) is there.
[[noreturn]] void CrashChild(const fs::path& dir, const LogConfig& config, int fd, unsigned seed) {
  auto log = Log::Open(dir, config, {}).value();
  std::mt19937 rng(seed);
  for (int i = 0;; ++i) {
    struct Report {
      int64_t offset;
      int32_t key;
      int32_t value;
    } report{0, static_cast<int32_t>(rng() % 10),
             static_cast<int32_t>(seed % 100000 * 10000 + i % 10000)};
    std::vector<uint8_t> b =
        BuildBatch({{"k" + std::to_string(report.key), std::to_string(report.value)}}, 1000,
                   i % 2 ? Compression::kZstd : Compression::kNone);
    Result<AppendResult> r = log->Append(b, 0);
    if (!r.ok() || !log->FlushTo(r->last_offset + 1).ok()) _exit(3);
    log->SetHighWatermark(log->flushed_offset());
    report.offset = r->base_offset;
    if (write(fd, &report, sizeof report) != sizeof report) _exit(4);
    if (i % 25 == 0) {
      CleanPassOptions o;
      o.force = true;
      Result<CleanPassStats> c = CleanLogOnce(*log, o);
      if (!c.ok()) _exit(5);
    }
  }
}

TEST_F(LogCleanerTest, KillNineDuringCleaningKeepsTheLatestFlushedValueOfEveryKey) {
  config_.segment_bytes = 2048;
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::map<int32_t, std::pair<int64_t, int32_t>> latest;  // key -> (offset, value)
  for (int round = 0; round < 4; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const unsigned seed = static_cast<unsigned>(rng() % 100000);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CrashChild(dir.path(), config_, fds[1], seed);
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 500));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    struct {
      int64_t offset;
      int32_t key;
      int32_t value;
    } report;
    int reports = 0;
    while (read(fds[0], &report, sizeof report) == static_cast<ssize_t>(sizeof report)) {
      latest[report.key] = {report.offset, report.value};
      ++reports;
    }
    close(fds[0]);
    EXPECT_GT(reports, 0);

    auto log = Log::Open(dir.path(), config_, {}).value();
    std::map<std::string, Rec> got;
    int64_t prev = -1;
    for (const Rec& r : ReadAll(*log)) {
      ASSERT_GT(r.offset, prev) << "round " << round;
      prev = r.offset;
      got[*r.key] = r;
    }
    for (const auto& [key, at] : latest) {
      const std::string k = "k" + std::to_string(key);
      ASSERT_TRUE(got.contains(k)) << k << " lost, round " << round;
      ASSERT_GE(got[k].offset, at.first) << k << " round " << round;
      if (got[k].offset == at.first) {
        EXPECT_EQ(got[k].value, std::to_string(at.second));
      }
    }
    // Unflushed-but-written records of the last round may survive too:
    // they are the latest now.
    for (const auto& [k, r] : got) latest[std::stoi(k.substr(1))] = {r.offset, std::stoi(*r.value)};
    ASSERT_TRUE(log->Close().ok());
  }
}

}  // namespace
}  // namespace sluice::storage
