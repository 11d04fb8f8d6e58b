// Drives one partition log through operations the input chooses -- appends
// of batches it shapes (extreme timestamps, codecs, LogAppendTime, raw bytes
// that pass the produce path's validation), reads, timestamp lookups,
// truncations, log-start moves, retention, clock jumps and reopening -- and
// checks every answer against a model of the records the log must hold.
// The append path is validate -> (true max timestamp) -> Log::Append, as the
// produce handler runs it; the log lives in a fresh directory on tmpfs.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/endian.h"
#include "base/output_chain.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_header.h"
#include "model/record_batch_validator.h"
#include "model/record_batch_view.h"
#include "storage/log.h"
#include "storage/saturating.h"

namespace {

using namespace sluice;
namespace fs = std::filesystem;

// Says which expectation failed before aborting (the crash input replays it).
#define CHECK(condition)                                                         \
  do {                                                                           \
    if (!(condition)) {                                                          \
      std::fprintf(stderr, "CHECK failed at line %d: %s\n", __LINE__, #condition); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

struct ModelRecord {
  int64_t offset;
  int64_t timestamp;
};

struct ModelBatch {
  int64_t base;
  int64_t last;
};

// What the log must hold: every record at or above the log start, in order.
struct Model {
  std::vector<ModelBatch> batches;
  std::vector<ModelRecord> records;
  int64_t log_start = 0;
  int64_t leo = 0;
  int32_t epoch = 0;

  // TruncateTo(offset): the batch holding it goes, with everything after.
  void Truncate(int64_t offset) {
    auto it = std::find_if(batches.begin(), batches.end(),
                           [&](const ModelBatch& b) { return b.last >= offset; });
    if (it == batches.end()) return;
    leo = it->base;
    batches.erase(it, batches.end());
    std::erase_if(records, [&](const ModelRecord& r) { return r.offset >= leo; });
    log_start = std::min(log_start, leo);
  }
  void AdvanceStart(int64_t offset) {
    log_start = std::max(log_start, offset);
    std::erase_if(records, [&](const ModelRecord& r) { return r.offset < log_start; });
    std::erase_if(batches, [&](const ModelBatch& b) { return b.last < log_start; });
  }
  std::optional<ModelRecord> FirstAtOrAfter(int64_t target) const {
    for (const ModelRecord& r : records) {
      if (r.timestamp >= target) return r;
    }
    return std::nullopt;
  }
};

class Harness {
 public:
  Harness(FuzzedDataProvider* in, fs::path dir) : in_(in), dir_(std::move(dir)) {
    config_.segment_bytes = in_->ConsumeIntegralInRange<int64_t>(200, 64 * 1024);
    config_.segment_ms = in_->ConsumeBool() ? in_->ConsumeIntegralInRange<int64_t>(1, INT64_MAX)
                                            : 1000;
    config_.index_interval_bytes = in_->ConsumeIntegralInRange<int32_t>(1, 8192);
    config_.segment_index_bytes = in_->ConsumeIntegralInRange<int32_t>(24, 4096);
    config_.retention_ms = -1;
    now_ = in_->ConsumeIntegral<int64_t>();
  }

  void Run() {
    Open(/*clean=*/true);
    while (in_->remaining_bytes() > 0) Step();
    CheckContents();
    CHECK(log_->Close().ok());
  }

 private:
  void Open(bool clean) {
    storage::LogOptions options;
    options.clock = [this] { return now_; };
    options.clean_shutdown = clean;
    auto log = storage::Log::Open(dir_, config_, std::move(options));
    CHECK(log.ok());
    log_ = std::move(*log);
    CHECK(log_->log_end_offset() == model_.leo);
    CHECK(log_->log_start_offset() == model_.log_start);
  }

  void Step() {
    switch (in_->ConsumeIntegralInRange(0, 9)) {
      case 0:
      case 1:
        AppendBuilt();
        break;
      case 2:
        AppendRaw();
        break;
      case 3:
        ReadAt(Offset());
        break;
      case 4:
        LookUpTimestamp();
        break;
      case 5:
        Truncate();
        break;
      case 6:
        AdvanceStart();
        break;
      case 7:
        Retain();
        break;
      case 8:
        now_ = in_->ConsumeBool()
                   ? in_->ConsumeIntegral<int64_t>()
                   : storage::SaturatingAdd(now_, in_->ConsumeIntegralInRange<int64_t>(0, 5000));
        break;
      case 9:
        Reopen();
        break;
    }
  }

  // An offset in [log start, LEO] (or just outside, now and then).
  int64_t Offset() {
    return in_->ConsumeIntegralInRange<int64_t>(model_.log_start - 1, model_.leo + 1);
  }

  int64_t Timestamp() {
    switch (in_->ConsumeIntegralInRange(0, 3)) {
      case 0: return in_->ConsumeIntegral<int64_t>();
      case 1: return in_->PickValueInArray<int64_t>({INT64_MIN, INT64_MAX, -1, 0, INT64_MAX - 1});
      default:
        return storage::SaturatingAdd(now_,
                                      in_->ConsumeIntegralInRange<int64_t>(-100000, 100000));
    }
  }

  void AppendBuilt() {
    model::RecordBatchOptions options;
    options.compression = static_cast<model::Compression>(in_->ConsumeIntegralInRange(0, 4));
    const bool append_time = in_->ConsumeIntegralInRange(0, 7) == 0;
    model::RecordBatchBuilder builder(options);
    const int n = in_->ConsumeIntegralInRange(1, 12);
    for (int i = 0; i < n; ++i) {
      const std::string value = in_->ConsumeRandomLengthString(64);
      builder.Add(Timestamp(), std::nullopt, model::AsBytes(value));
    }
    auto batch = builder.Build();
    if (!batch.ok()) return;  // e.g. timestamp deltas a batch cannot carry
    Append(*batch, append_time);
  }

  // Arbitrary bytes with a correct length and CRC: whatever gets past the
  // produce path's validation must be appended and read back faithfully.
  void AppendRaw() {
    std::vector<uint8_t> batch =
        in_->ConsumeBytes<uint8_t>(in_->ConsumeIntegralInRange<size_t>(0, 600));
    using namespace model::batch_layout;
    if (batch.size() < kHeaderSize) return;
    StoreBigEndian<int32_t>(batch.data() + kBatchLength,
                            static_cast<int32_t>(batch.size() - kLogOverhead));
    batch[kMagic] = 2;
    StoreBigEndian(batch.data() + kCrc, model::ComputeBatchCrc(batch));
    Append(batch, false);
  }

  void Append(std::vector<uint8_t>& batch, bool append_time) {
    model::RecordRules rules;
    rules.check_create_time = !append_time;
    rules.now_ms = now_;
    std::vector<model::RecordError> errors;
    model::BatchSummary summary;
    if (!model::ValidateRecordBatch(batch, {.rules = &rules}, &summary, &errors).ok()) return;
    auto header = model::ParseRecordBatchHeader(batch);
    CHECK(header.ok());
    if (header->is_control() || header->is_transactional()) return;  // refused by produce
    if (append_time) {
      model::SetLogAppendTime(batch, now_);
    } else {
      model::SetMaxTimestamp(batch, summary.max_timestamp);
    }
    if (in_->ConsumeIntegralInRange(0, 5) == 0) ++model_.epoch;
    auto appended = log_->Append(batch, model_.epoch);
    if (!appended.ok()) {
      CHECK(batch.size() > static_cast<size_t>(config_.max_message_bytes));
      return;
    }
    CHECK(appended->base_offset == model_.leo);
    auto view = model::RecordBatchView::Parse(batch);
    CHECK(view.ok());
    model::RecordIterator it = view->Records();
    model::Record r;
    while (it.Next(&r)) model_.records.push_back({r.offset, r.timestamp});
    CHECK(it.status().ok());
    model_.batches.push_back({appended->base_offset, appended->last_offset});
    model_.leo = appended->last_offset + 1;
    CHECK(log_->log_end_offset() == model_.leo);
  }

  void ReadAt(int64_t offset) {
    auto read = log_->Read(offset, in_->ConsumeIntegralInRange<uint64_t>(0, 4096));
    if (offset < model_.log_start || offset > model_.leo) {
      CHECK(!read.ok());
      return;
    }
    CHECK(read.ok());
    if (offset == model_.leo) {
      CHECK(read->slices.empty());
      return;
    }
    CHECK(!read->slices.empty());
    // The first batch holds `offset`.
    auto holder = std::find_if(model_.batches.begin(), model_.batches.end(),
                               [&](const ModelBatch& b) { return b.last >= offset; });
    CHECK(holder != model_.batches.end() && read->first_offset == holder->base);
  }

  void LookUpTimestamp() {
    int64_t target = Timestamp();
    if (!model_.records.empty() && in_->ConsumeBool()) {
      const auto& r = model_.records[in_->ConsumeIntegralInRange<size_t>(
          0, model_.records.size() - 1)];
      target = r.timestamp + in_->ConsumeIntegralInRange<int64_t>(-1, 1) *
                                 (r.timestamp > INT64_MIN && r.timestamp < INT64_MAX);
    }
    target &= INT64_MAX;  // ListOffsets handles -1/-2/-3 itself; storage sees targets >= 0
    auto found = log_->FindOffsetByTimestamp(target);
    CHECK(found.ok());
    const std::optional<ModelRecord> expected = model_.FirstAtOrAfter(target);
    CHECK(found->has_value() == expected.has_value());
    if (expected) {
      CHECK((*found)->offset == expected->offset);
      CHECK((*found)->timestamp == expected->timestamp);
    }
    auto max = log_->FindMaxTimestamp();
    CHECK(max.ok());
    if (max->has_value()) CHECK((*max)->offset < model_.leo);
  }

  void Truncate() {
    const int64_t offset = in_->ConsumeIntegralInRange<int64_t>(model_.log_start, model_.leo);
    CHECK(log_->TruncateTo(offset).ok());
    model_.Truncate(offset);
    CHECK(log_->log_end_offset() == model_.leo);
    CHECK(log_->log_start_offset() == model_.log_start);
  }

  void AdvanceStart() {
    const int64_t offset = in_->ConsumeIntegralInRange<int64_t>(model_.log_start, model_.leo);
    CHECK(log_->AdvanceLogStartOffset(offset).ok());
    model_.AdvanceStart(offset);
    CHECK(log_->log_start_offset() == model_.log_start);
  }

  void Retain() {
    storage::LogConfig config = config_;
    config.retention_bytes = in_->ConsumeIntegralInRange<int64_t>(0, 64 * 1024);
    config.retention_ms = in_->ConsumeIntegralInRange<int64_t>(-1, INT64_MAX);
    log_->UpdateConfig(config);
    auto result = log_->EnforceRetention();
    CHECK(result.ok());
    // Whole segments only: a log start that moved is the first kept
    // segment's base, and the active segment is always kept.
    const std::vector<int64_t> bases = log_->segment_bases();
    CHECK(!bases.empty());
    CHECK(result->log_start_offset >= model_.log_start);
    CHECK(result->log_start_offset == model_.log_start ||
          result->log_start_offset == bases.front());
    model_.AdvanceStart(result->log_start_offset);
    log_->UpdateConfig(config_);
  }

  void Reopen() {
    const bool clean = in_->ConsumeBool();
    if (clean) {
      CHECK(log_->Close().ok());
    } else {
      CHECK(log_->Flush().ok());  // durable, then dropped without a clean close
    }
    log_.reset();
    Open(clean);
  }

  // Everything from the log start, record by record.
  void CheckContents() {
    std::vector<ModelRecord> seen;
    int64_t offset = model_.log_start;
    while (offset < model_.leo) {
      auto read = log_->Read(offset, 1 << 20);
      CHECK(read.ok() && !read->slices.empty());
      for (const FileSlice& slice : read->slices) {
        std::vector<uint8_t> bytes(slice.length);
        CHECK(ReadFileSlice(slice, bytes).ok());
        std::span<const uint8_t> rest(bytes);
        while (!rest.empty()) {
          auto view = model::RecordBatchView::Parse(rest);
          CHECK(view.ok());
          model::RecordIterator it = view->Records();
          model::Record r;
          while (it.Next(&r)) {
            if (r.offset >= model_.log_start) seen.push_back({r.offset, r.timestamp});
          }
          CHECK(it.status().ok());
          rest = rest.subspan(view->header().size_bytes());
        }
      }
      CHECK(read->next_offset > offset);
      offset = read->next_offset;
    }
    CHECK(seen.size() == model_.records.size());
    for (size_t i = 0; i < seen.size(); ++i) {
      CHECK(seen[i].offset == model_.records[i].offset);
      CHECK(seen[i].timestamp == model_.records[i].timestamp);
    }
  }

  FuzzedDataProvider* in_;
  fs::path dir_;
  storage::LogConfig config_;
  int64_t now_ = 0;
  Model model_;
  std::unique_ptr<storage::Log> log_;
};

fs::path Scratch() {
  const fs::path base = fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
  return base / ("sluice-log-fuzz-" + std::to_string(getpid()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path dir = Scratch();
  fs::remove_all(dir);
  fs::create_directories(dir);
  FuzzedDataProvider in(data, size);
  Harness(&in, dir).Run();
  return 0;
}
