// `sluice perf produce|consume|e2e`: load generators in the spirit of Kafka's
// kafka-producer-perf-test and kafka-consumer-perf-test, on librdkafka. Each
// prints a live progress line on stderr once a second and its result as a
// table on stdout, or with --json as exactly one JSON object.
#pragma once

#include <cstdint>
#include <string>

#include "tools/kafka_client.h"

namespace sluice::tools {

// One struct for the three commands; each reads the fields it documents.
struct PerfOptions {
  std::string topic;
  int64_t messages = -1;    // -1: not given (see each command's default).
  double duration_s = 0;    // 0: not given.
  int size = 100;           // Value bytes per message.
  std::string acks = "all";
  int linger_ms = -1;       // -1: librdkafka's default.
  int batch_size = -1;      // Bytes per partition batch; -1: librdkafka's default.
  std::string compression = "none";
  int partitions = -1;      // When the topic is created; -1: the broker's default.
  double rate = 0;          // Messages per second; 0: unlimited.
  // Consuming.
  std::string group;        // Empty: a fresh unique group (unless assign).
  bool assign = false;      // Assign every partition from the start, no group.
  int fetch_wait_max_ms = -1;   // -1: librdkafka's default.
  int idle_timeout_ms = 10000;  // Give up after this long without a message.
  // Output.
  bool json = false;
  bool quiet = false;       // No progress line.
};

// Defaults: 1,000,000 messages unless --messages or --duration is given.
// Latency: send -> delivery report.
int RunPerfProduce(const GlobalOptions& global, const PerfOptions& opts);

// Defaults: every message in the topic when it starts (the high watermarks).
int RunPerfConsume(const GlobalOptions& global, const PerfOptions& opts);

// Defaults: 10,000 msg/s for 10 s. Latency: send -> consumed, from the send
// time carried in the first 8 bytes of each value.
int RunPerfE2e(const GlobalOptions& global, const PerfOptions& opts);

}  // namespace sluice::tools
