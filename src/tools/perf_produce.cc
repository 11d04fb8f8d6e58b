// sluice perf produce: sends N messages (or for a duration) as fast as the
// broker takes them or at a target rate, and reports throughput and the
// send -> delivery-report latency.
#include <fmt/format.h>

#include "tools/perf_commands.h"
#include "tools/perf_common.h"

namespace sluice::tools {

namespace {

void ReportSettings(const PerfOptions& opts, int partitions, PerfReport* r) {
  r->Text("tool", "", "sluice perf produce");
  r->Text("topic", "topic", opts.topic);
  r->Int("partitions", "partitions", partitions);
  r->Int("size", "message size", opts.size, "B");
  r->Text("acks", "acks", opts.acks);
  r->Text("compression", "compression", opts.compression);
  r->Setting("linger_ms", "linger.ms", opts.linger_ms, "librdkafka default (5)");
  r->Setting("batch_size", "batch.size", opts.batch_size, "librdkafka default (1000000)");
  r->Real("target_rate", "target rate", opts.rate, 0, opts.rate > 0 ? "msg/s" : "(unlimited)");
}

}  // namespace

int RunPerfProduce(const GlobalOptions& global, const PerfOptions& opts) {
  int64_t count = opts.messages;
  if (count < 0 && opts.duration_s <= 0) count = 1000000;

  std::unique_ptr<KafkaClient> client;
  CommandStatus s =
      KafkaClient::Open(global, KafkaClient::Role::kProducer, PerfProducerSettings(opts), &client);
  if (!s.ok()) return Finish(s);
  int partitions = 0;
  s = EnsureTopic(*client, opts.topic, opts.partitions, &partitions);
  if (!s.ok()) return Finish(s);
  RdPtr<rd_kafka_topic_t, rd_kafka_topic_destroy> topic(
      rd_kafka_topic_new(client->get(), opts.topic.c_str(), nullptr));

  PayloadPool pool(static_cast<size_t>(opts.size));
  InstallPerfSignalHandlers();
  std::optional<PerfClock::time_point> deadline;
  if (opts.duration_s > 0) {
    deadline = PerfClock::now() + std::chrono::duration_cast<PerfClock::duration>(
                                      std::chrono::duration<double>(opts.duration_s));
  }
  ProduceRun run;
  PerfProducer(client.get(), topic.get(), !opts.quiet)
      .Run(count, deadline, opts.rate,
           [&pool](uint64_t i, int64_t /*send_ns*/) { return pool.Get(i); }, &run);

  // Throughput runs from the first send to the last acknowledgement.
  double elapsed = std::chrono::duration<double>(
                       (run.delivered > 0 ? run.last_delivery : run.last_send) - run.start)
                       .count();
  PerfReport r;
  ReportSettings(opts, partitions, &r);
  r.Int("messages", "messages", run.delivered);
  r.Int("failed", "failed", run.failed);
  r.Int("bytes", "", static_cast<int64_t>(run.bytes));
  r.Real("elapsed_s", "elapsed", elapsed, 3, "s");
  r.Rate(static_cast<double>(run.delivered), static_cast<double>(run.bytes), elapsed);
  r.Latency("latency_ms", "latency (send to ack)", Summarize(run.delivery));
  PrintPerfReport(r, opts.json);

  if (run.failed > 0) {
    return Finish(CommandStatus::Failed(
        fmt::format("{} messages failed; the first: {}", run.failed, run.first_error)));
  }
  if (PerfStopRequested()) return Finish(CommandStatus::Failed("interrupted"));
  return kExitOk;
}

}  // namespace sluice::tools
