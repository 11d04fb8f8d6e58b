// Compares the on-disk logs of a partition's replicas after the brokers have
// stopped: below the committed offset they must be the same bytes.
//
// For each partition, each broker's `<log dir>/<topic>-<p>` is copied to a
// temporary directory (so that the check never changes what it checks) and
// opened there with storage::Log, the broker's own storage code (trusting
// the files when the data dir has its clean-shutdown marker, recovering them
// otherwise, as the broker's next start would). Then, on every replica:
//   * the log end offset reaches `committed[p]`;
//   * the batches wholly below `committed[p]` (Log::Read with that bound)
//     end exactly at it: an acknowledged offset is a batch boundary, since
//     the high watermark moves only to offsets followers fetched from;
//   * each of those batches passes its CRC;
//   * their bytes, the whole batch from base_offset on (offsets, leader
//     epoch, producer id, sequence, records, CRC), are identical across the
//     replicas. A follower copies a leader's batch unchanged, so any
//     difference is a divergent history in the committed part of the log.
// Past `committed[p]` replicas may differ (an uncommitted tail is
// legitimately truncated later); that part is not compared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sluice::testing {

struct ReplicaLogCheck {
  int64_t batches = 0;         // batches compared, per replica, all partitions
  int64_t bytes = 0;           // bytes compared, per replica, all partitions
  int replicas = 0;
  std::vector<std::string> problems;
  std::string Summary() const;
};

// `log_dirs`: each replica's data directory (brokers stopped). `committed`:
// partition -> the offset below which every replica must agree (the high
// watermark the checker read up to).
ReplicaLogCheck CompareReplicaLogs(const std::vector<std::filesystem::path>& log_dirs,
                                   const std::string& topic,
                                   const std::map<int32_t, int64_t>& committed);

}  // namespace sluice::testing
