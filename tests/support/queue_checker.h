// The checker for QueueWorkload histories: after the cluster has healed,
// read every partition from its beginning through the brokers and judge the
// history against what is there.
//
//   FinalLog log = ReadFinalLog(cluster.Bootstrap(), topic, partitions);
//   QueueCheck check = CheckQueue(workload.history(), log);
//   std::printf("%s\n", check.Summary("kill -9 of the controller x1").c_str());
//   EXPECT_TRUE(check.ok()) << check.Problems();
//
// What must hold (each violation counted and described):
//   lost        an acknowledged (partition, offset, value) is not in the log
//               at that offset (counted once per acknowledged write; a write
//               acknowledged without an offset must be in its partition);
//   duplicated  a value appears more than once in the log (acknowledged or
//               not: a failed write may be in the log, but at most once);
//   misplaced   an acknowledged value is in the log, but at another offset
//               or partition than its acknowledgement said;
//   unordered   within a partition the values do not strictly increase with
//               the offset (the producer sends them in increasing order and
//               idempotence keeps that order across retries);
//   foreign     a record that is not a value the workload sent to that
//               partition;
//   dirty       the group consumer received a (partition, offset, value)
//               that the final log does not hold (it read a write that was
//               later lost or replaced);
//   fatal       the producer hit a fatal (idempotence) error;
//   incomplete  a partition could not be read up to its high watermark.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/queue_workload.h"

namespace sluice::testing {

struct FinalLog {
  // Per partition, every record from the log start to the high watermark.
  std::map<int32_t, std::vector<ConsumedRecord>> records;
  std::map<int32_t, int64_t> high_watermark;
  std::vector<std::string> problems;  // partitions that could not be read whole
};

// Reads partitions [0, partitions) of `topic` with librdkafka from the
// beginning up to the high watermark the leader reports when the read starts.
// REQUIRES: nothing writes to the topic meanwhile.
FinalLog ReadFinalLog(const std::string& bootstrap, const std::string& topic, int partitions,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));

struct QueueCheck {
  int64_t sent = 0;
  int64_t acked = 0;
  int64_t acked_without_offset = 0;  // delivery reports with offset -1001 (see the .cc)
  int64_t failed = 0;
  std::map<std::string, int64_t> failure_reasons;  // error -> writes
  int64_t read = 0;              // records in the final log
  int64_t read_unacked = 0;      // of those, writes whose report was a failure
  int64_t group_consumed = 0;    // messages the group consumer received
  int64_t lost = 0;
  int64_t duplicated = 0;
  int64_t misplaced = 0;
  int64_t unordered = 0;
  int64_t foreign = 0;
  int64_t dirty = 0;
  // The producer's fatal errors (the workload replaced it each time): not a
  // problem by themselves, reported in the summary.
  std::vector<std::string> producer_fatal_errors;
  std::vector<std::string> problems;  // the first few of each kind, described

  bool ok() const { return problems.empty(); }
  // One line: "faults injected: <faults>; sent S, acknowledged N, ...".
  std::string Summary(const std::string& faults) const;
  std::string Problems() const;
};

QueueCheck CheckQueue(const QueueHistory& history, const FinalLog& log);

}  // namespace sluice::testing
