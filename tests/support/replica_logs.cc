#include "support/replica_logs.h"

#include <algorithm>
#include <memory>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "base/output_chain.h"
#include "model/record_batch_header.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "support/temp_dir.h"

namespace sluice::testing {
namespace {

struct ReplicaBytes {
  std::vector<uint8_t> bytes;
  std::vector<int64_t> batch_starts;  // base offset of each batch, in order
  std::vector<size_t> batch_positions;
};

// Reads the batches of the log copied from `dir` wholly below `committed`.
Result<ReplicaBytes> ReadCommitted(const std::filesystem::path& data_dir,
                                   const std::filesystem::path& dir, int64_t committed) {
  TempDir copy;
  std::error_code ec;
  std::filesystem::copy(dir, copy.path() / dir.filename(), std::filesystem::copy_options::recursive,
                        ec);
  if (ec) return Status::IOError(fmt::format("copy {}: {}", dir.string(), ec.message()));
  storage::LogOptions options;
  options.clean_shutdown = std::filesystem::exists(data_dir / storage::kCleanShutdownMarker);
  auto log = storage::Log::Open(copy.path() / dir.filename(), storage::LogConfig{}, options);
  if (!log.ok()) return log.status();
  if ((*log)->log_end_offset() < committed) {
    return Status::Corruption(fmt::format("log end offset {} is below the committed offset {}",
                                          (*log)->log_end_offset(), committed));
  }
  ReplicaBytes out;
  int64_t offset = (*log)->log_start_offset();
  while (offset < committed) {
    auto r = (*log)->Read(offset, 1 << 20, committed);
    if (!r.ok()) return r.status();
    if (r->slices.empty()) break;
    for (const FileSlice& s : r->slices) {
      const size_t at = out.bytes.size();
      out.bytes.resize(at + s.length);
      SLUICE_RETURN_IF_ERROR(ReadFileSlice(s, std::span<uint8_t>(out.bytes.data() + at, s.length)));
    }
    offset = r->next_offset;
  }
  // Walk the batches: CRCs, and where they end.
  size_t pos = 0;
  int64_t end = (*log)->log_start_offset();
  while (pos < out.bytes.size()) {
    std::span<const uint8_t> rest(out.bytes.data() + pos, out.bytes.size() - pos);
    auto h = model::ParseRecordBatchHeader(rest);
    if (!h.ok()) return h.status();
    if (h->size_bytes() > rest.size() || !model::VerifyBatchCrc(rest.first(h->size_bytes()))) {
      return Status::Corruption(fmt::format("batch at offset {} fails its CRC", h->base_offset));
    }
    out.batch_starts.push_back(h->base_offset);
    out.batch_positions.push_back(pos);
    end = h->last_offset() + 1;
    pos += h->size_bytes();
  }
  if (end != committed) {
    return Status::Corruption(
        fmt::format("the batches below the committed offset {} end at {}", committed, end));
  }
  (void)(*log)->Close();  // A copy: nothing to keep.
  return out;
}

}  // namespace

ReplicaLogCheck CompareReplicaLogs(const std::vector<std::filesystem::path>& log_dirs,
                                   const std::string& topic,
                                   const std::map<int32_t, int64_t>& committed) {
  ReplicaLogCheck check;
  check.replicas = static_cast<int>(log_dirs.size());
  for (const auto& [p, end] : committed) {
    const std::string name = fmt::format("{}-{}", topic, p);
    std::vector<ReplicaBytes> replicas;
    size_t first = 0;  // the replica the others are compared with
    for (size_t i = 0; i < log_dirs.size(); ++i) {
      auto r = ReadCommitted(log_dirs[i], log_dirs[i] / name, end);
      if (!r.ok()) {
        check.problems.push_back(
            fmt::format("replica {} of {}: {}", i + 1, name, r.status().ToString()));
        continue;
      }
      replicas.push_back(std::move(*r));
      if (replicas.size() == 1) {
        first = i;
        check.batches += static_cast<int64_t>(replicas[0].batch_starts.size());
        check.bytes += static_cast<int64_t>(replicas[0].bytes.size());
        continue;
      }
      const ReplicaBytes& a = replicas[0];
      const ReplicaBytes& b = replicas.back();
      if (a.bytes == b.bytes) continue;
      // Name the first batch that differs.
      size_t k = 0;
      while (k < a.batch_starts.size() && k < b.batch_starts.size() &&
             a.batch_starts[k] == b.batch_starts[k] &&
             std::equal(a.bytes.begin() + static_cast<ptrdiff_t>(a.batch_positions[k]),
                        k + 1 < a.batch_positions.size()
                            ? a.bytes.begin() + static_cast<ptrdiff_t>(a.batch_positions[k + 1])
                            : a.bytes.end(),
                        b.bytes.begin() + static_cast<ptrdiff_t>(b.batch_positions[k]),
                        k + 1 < b.batch_positions.size()
                            ? b.bytes.begin() + static_cast<ptrdiff_t>(b.batch_positions[k + 1])
                            : b.bytes.end())) {
        ++k;
      }
      check.problems.push_back(fmt::format(
          "{}: replica {} differs from replica {} below the committed offset {} ({} vs {} bytes, "
          "{} vs {} batches); first different batch: #{} (base offset {} vs {})",
          name, i + 1, first + 1, end, b.bytes.size(), a.bytes.size(), b.batch_starts.size(),
          a.batch_starts.size(), k, k < b.batch_starts.size() ? b.batch_starts[k] : -1,
          k < a.batch_starts.size() ? a.batch_starts[k] : -1));
    }
  }
  return check;
}

std::string ReplicaLogCheck::Summary() const {
  return fmt::format("replica logs: {} batches ({} bytes) below the committed offsets compared "
                     "across {} replicas, {} problem(s)",
                     batches, bytes, replicas, problems.size());
}

}  // namespace sluice::testing
