// QueueWorkload: the client side of a fault test, recording a history for
// queue_checker.h to judge.
//
// A producer thread writes sequence numbers 0, 1, 2, ... as values
// ("%012d", so that byte order is numeric order, then optional '.' padding)
// through one idempotent
// acks=all librdkafka producer, value v to partition v % partitions, at a
// steady rate; every delivery report is recorded: acknowledged with its
// (partition, offset), or failed with its error (a failed write may or may
// not be in the log: the checker allows it at most once). Concurrently a
// consumer thread reads the topic in a consumer group (subscribe, auto
// commit) and records every message it is handed.
//
//   QueueWorkload w(cluster.Bootstrap(), {.topic = "queue", .partitions = 3});
//   w.Start();
//   ... inject faults; WaitUntil([&] { return w.acked() > n; }) ...
//   w.StopProducing();           // every delivery report is in
//   w.WaitConsumed(...); w.StopConsuming();
//   QueueHistory h = w.history();
//
// Thread-safe: the counters may be read while the threads run; history()
// only after StopProducing and StopConsuming.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

struct QueueWorkloadOptions {
  std::string topic;
  int partitions = 3;
  int messages_per_second = 200;
  // Size of each value: the 12 digits, padded with '.' (a test that must
  // fill a disk writes more bytes per message).
  size_t value_bytes = 12;
  std::string group = "fault-test-group";
  // Extra librdkafka settings for the producer, over the workload's own.
  std::map<std::string, std::string> producer_conf;
};

struct AckedWrite {
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t value = -1;
};

struct ConsumedRecord {
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t value = -1;  // -1: not a value this workload writes
};

struct QueueHistory {
  int partitions = 0;
  int64_t sent = 0;                          // values 0 .. sent-1 were handed to the producer
  std::vector<AckedWrite> acked;             // in delivery-report order
  std::map<int64_t, std::string> failed;     // value -> error
  std::vector<ConsumedRecord> consumed;      // by the group consumer, in arrival order
  // Fatal errors of the idempotent producer (librdkafka gives up on its
  // sequence state, e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after a failover that
  // dropped writes it never had acknowledged). As an application must, the
  // workload then replaces the producer with a new one and goes on; what
  // the old one had unanswered is reported failed (maybe written).
  std::vector<std::string> fatal_errors;
  std::string fatal_error;  // the current producer's, until it is replaced
};

// The value's text as written (`size` bytes, at least 12), and back (-1 if
// the bytes are not one).
std::string EncodeQueueValue(int64_t value, size_t size = 12);
int64_t DecodeQueueValue(const void* data, size_t size);

class QueueWorkload {
 public:
  QueueWorkload(std::string bootstrap, QueueWorkloadOptions options);
  ~QueueWorkload();  // Stops both threads.
  QueueWorkload(const QueueWorkload&) = delete;
  QueueWorkload& operator=(const QueueWorkload&) = delete;

  void Start();
  // Stops handing out new values and waits (up to `timeout`) until every
  // sent value has its delivery report. False if some never got one.
  bool StopProducing(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Waits until the group consumer has received every acknowledged value
  // at least once; false on timeout. REQUIRES: StopProducing returned.
  bool WaitConsumed(std::chrono::milliseconds timeout);
  // Stops the group consumer; returns once its history is complete. Its
  // librdkafka close is waited for up to 30 s, then left to its thread.
  void StopConsuming();

  int64_t acked() const { return acked_count_.load(); }
  int64_t failed() const { return failed_count_.load(); }
  int64_t consumed() const { return consumed_count_.load(); }
  // REQUIRES: both threads stopped.
  QueueHistory history() const;

 private:
  class Reporter;
  void ProduceLoop();
  void ConsumeLoop();

  const std::string bootstrap_;
  const QueueWorkloadOptions options_;
  std::atomic<bool> stop_producing_{false};
  std::atomic<bool> stop_consuming_{false};
  std::atomic<int64_t> acked_count_{0};
  std::atomic<int64_t> failed_count_{0};
  std::atomic<int64_t> consumed_count_{0};
  std::atomic<int64_t> outstanding_{0};  // sent, no delivery report yet
  std::atomic<int64_t> unanswered_at_flush_{0};
  std::chrono::milliseconds flush_timeout_{60000};
  std::thread producer_;
  std::thread consumer_;
  std::atomic<bool> consume_loop_done_{false};  // the consumer's history is complete
  // Set by the consumer thread once librdkafka's close returned; shared, as
  // that thread may outlive the workload (see ConsumeLoop).
  std::shared_ptr<std::atomic<bool>> consumer_closed_ = std::make_shared<std::atomic<bool>>(false);

  mutable std::mutex mu_;
  QueueHistory history_;                 // guarded by mu_
  std::set<int64_t> consumed_values_;    // guarded by mu_
  std::set<int64_t> acked_values_;       // guarded by mu_
};

}  // namespace sluice::testing
