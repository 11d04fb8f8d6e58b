#include "tools/perf_cli.h"

namespace sluice::tools {

namespace {

const std::vector<std::string> kCodecs = {"none", "gzip", "snappy", "lz4", "zstd"};

void AddRunLength(CLI::App* c, PerfOptions& o, const char* count_help) {
  c->add_option("--messages", o.messages, count_help)->check(CLI::NonNegativeNumber);
  c->add_option("--duration", o.duration_s, "Run for this many seconds")
      ->check(CLI::PositiveNumber);
}

void AddProducerOptions(CLI::App* c, PerfOptions& o) {
  c->add_option("--size", o.size, "Value bytes per message")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("--acks", o.acks, "Acknowledgements: all, 1 or 0")
      ->check(CLI::IsMember({"all", "-1", "1", "0"}))
      ->capture_default_str();
  c->add_option("--linger-ms", o.linger_ms, "linger.ms (default: librdkafka's, 5)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--batch-size", o.batch_size,
                "batch.size: bytes per partition batch (default: librdkafka's, 1000000)")
      ->check(CLI::PositiveNumber);
  c->add_option("--compression", o.compression, "none, gzip, snappy, lz4 or zstd")
      ->check(CLI::IsMember(kCodecs))
      ->capture_default_str();
  c->add_option("--partitions", o.partitions,
                "Partitions of the topic if it is created (default: the broker's)")
      ->check(CLI::PositiveNumber);
}

void AddOutputOptions(CLI::App* c, PerfOptions& o) {
  c->add_flag("--json", o.json, "Print the result as one JSON object");
  c->add_flag("-q,--quiet", o.quiet, "No progress line on stderr");
}

void AddIdleTimeout(CLI::App* c, PerfOptions& o) {
  c->add_option("--idle-timeout-ms", o.idle_timeout_ms,
                "Give up after this long without a message")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

}  // namespace

void AddPerfCommands(CLI::App& app, const GlobalOptions& global, PerfCliOptions& opts,
                     const AddLeafFn& leaf) {
  CLI::App* perf =
      app.add_subcommand("perf", "Load generators: producer and consumer throughput, "
                                 "end-to-end latency (MB = 10^6 bytes)")
          ->fallthrough();
  perf->require_subcommand(1);

  PerfOptions& p = opts.produce;
  CLI::App* produce = leaf(perf, "produce",
                           "Send messages as fast as possible or at --rate; throughput and "
                           "send-to-ack latency",
                           [&] { return RunPerfProduce(global, p); });
  produce->add_option("topic", p.topic, "Topic (created if missing)")->required();
  AddRunLength(produce, p, "Messages to send (default 1000000 unless --duration)");
  AddProducerOptions(produce, p);
  produce->add_option("--rate", p.rate, "Target messages per second; 0: unlimited")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  AddOutputOptions(produce, p);

  PerfOptions& c = opts.consume;
  CLI::App* consume = leaf(perf, "consume",
                           "Read a topic as fast as possible, as a fresh group or with --assign",
                           [&] { return RunPerfConsume(global, c); });
  consume->add_option("topic", c.topic, "Topic")->required();
  AddRunLength(consume, c,
               "Messages to read (default: all in the topic when it starts, unless --duration)");
  consume->add_option("--group", c.group, "Consumer group (default: a new unique one)");
  consume->add_flag("--assign", c.assign,
                    "Assign every partition from the beginning; no group, no commits");
  consume->add_option("--fetch-wait-max-ms", c.fetch_wait_max_ms,
                      "fetch.wait.max.ms (default: librdkafka's, 500)")
      ->check(CLI::NonNegativeNumber);
  AddIdleTimeout(consume, c);
  AddOutputOptions(consume, c);

  PerfOptions& e = opts.e2e;
  e.rate = 10000;
  CLI::App* e2e = leaf(perf, "e2e",
                       "Produce at a fixed rate and consume in the same process; "
                       "send-to-consume latency",
                       [&] { return RunPerfE2e(global, e); });
  e2e->add_option("topic", e.topic, "Topic (created if missing)")->required();
  AddRunLength(e2e, e, "Messages to send (default: for 10 s)");
  AddProducerOptions(e2e, e);
  e2e->add_option("--rate", e.rate, "Messages per second; 0: unlimited")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  e2e->add_option("--fetch-wait-max-ms", e.fetch_wait_max_ms,
                  "fetch.wait.max.ms of the consumer (default: librdkafka's, 500)")
      ->check(CLI::NonNegativeNumber);
  AddIdleTimeout(e2e, e);
  AddOutputOptions(e2e, e);
}

}  // namespace sluice::tools
