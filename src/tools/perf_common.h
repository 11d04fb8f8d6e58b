// What `sluice perf produce`, `consume` and `e2e` share: client settings, the
// topic set-up, Ctrl-C handling, and the paced producer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/kafka_client.h"
#include "tools/perf_commands.h"
#include "tools/perf_report.h"
#include "tools/perf_stats.h"

namespace sluice::tools {

// Set by SIGINT/SIGTERM once InstallPerfSignalHandlers() ran: the commands
// stop, drain what is in flight and still report what they measured.
bool PerfStopRequested();
void InstallPerfSignalHandlers();

// librdkafka settings from the command line (acks, linger, batch, codec).
std::vector<KeyValue> PerfProducerSettings(const PerfOptions& opts);
// Assign mode still needs a group.id for librdkafka; nothing joins or commits.
std::vector<KeyValue> PerfConsumerSettings(const PerfOptions& opts, const std::string& group);
// "sluice-perf-<pid>-<time>", so every run starts with a group of its own.
std::string UniquePerfGroup();

// Makes sure `topic` exists (CreateTopics with `partitions`, -1 for the
// broker's default; brokers without CreateTopics fall back to auto-creation)
// and every partition has a leader; its partition count in *partition_count.
// An existing topic is used as it is.
CommandStatus EnsureTopic(KafkaClient& client, const std::string& topic, int partitions,
                          int* partition_count);
// The topic's partition count; an error if it does not exist.
CommandStatus TopicPartitions(KafkaClient& client, const std::string& topic, int* count);
// [low, high) watermark of each partition, queried from the leader.
CommandStatus Watermarks(KafkaClient& client, const std::string& topic, int partitions,
                         std::vector<std::pair<int64_t, int64_t>>* out);

// Waits up to `timeout_ms` for one message, then takes whatever else is
// already queued without waiting (rd_kafka_consume_batch_queue alone would
// wait for a full batch, delaying messages at low rates). Returns how many
// messages `batch` holds; the caller destroys them.
size_t NextMessages(rd_kafka_t* rk, rd_kafka_queue_t* queue, int timeout_ms,
                    std::vector<rd_kafka_message_t*>* batch);

// Prints the report to stdout (table or one JSON line).
void PrintPerfReport(const PerfReport& report, bool json);

// What a producer run measured.
struct ProduceRun {
  int64_t sent = 0;       // Accepted by librdkafka.
  int64_t delivered = 0;  // Acknowledged by the broker.
  int64_t failed = 0;     // Failed deliveries (and a send librdkafka refused).
  uint64_t bytes = 0;     // Value bytes delivered.
  PerfClock::time_point start, last_send, last_delivery;
  LatencyHistogram delivery;  // Send -> delivery report, in µs.
  std::string first_error;
};

// Sends from the calling thread, paced, while a second thread serves delivery
// reports (so their latency is not held up by the sending loop) and prints
// the progress line. The topic handle must outlive Run.
class PerfProducer {
 public:
  // The bytes of message i, sent at `send_ns` (PerfNowNs); valid until the
  // next call (librdkafka copies them).
  using ValueFn = std::function<std::string_view(uint64_t i, int64_t send_ns)>;

  PerfProducer(KafkaClient* client, rd_kafka_topic_t* topic, bool progress)
      : client_(client), topic_(topic), progress_(progress) {}

  // Sends `count` messages (-1: no limit) until `deadline` (if any) or a stop
  // request, at `rate` msg/s (0: unlimited), then waits for every delivery.
  void Run(int64_t count, std::optional<PerfClock::time_point> deadline, double rate,
           const ValueFn& value, ProduceRun* out);

 private:
  KafkaClient* client_;
  rd_kafka_topic_t* topic_;
  bool progress_;
};

}  // namespace sluice::tools
