// sluice perf e2e: produces at a fixed rate with the send time in the first 8
// bytes of each value while a consumer in the same process (assign mode,
// from the current end) reads them back; reports send -> consume latency.
// One process, so both ends read the same monotonic clock.
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "tools/perf_commands.h"
#include "tools/perf_common.h"

namespace sluice::tools {

namespace {

constexpr std::string_view kWarmupKey = "sluice-perf-warmup";

// What the consumer thread measured; read by the main thread after join.
struct ConsumeSide {
  std::atomic<int64_t> received{0};
  std::atomic<bool> warmed_up{false};
  std::atomic<bool> stop{false};
  LatencyHistogram latency;  // Send -> consumed, in µs.
  uint64_t bytes = 0;
  std::string error;
};

// Assigns every partition at its current end, so only this run's messages
// (the warm-up first) are read.
CommandStatus AssignAtEnd(KafkaClient& client, const std::string& topic, int partitions) {
  std::vector<std::pair<int64_t, int64_t>> marks;
  CommandStatus s = Watermarks(client, topic, partitions, &marks);
  if (!s.ok()) return s;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
        marks[static_cast<size_t>(p)].second;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(client.get(), list.get());
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? CommandStatus() : CommandStatus::Kafka(err);
}

void ConsumeLoop(rd_kafka_t* rk, rd_kafka_queue_t* queue, bool show_progress, ConsumeSide* side) {
  ProgressLine progress(show_progress, "consumed");
  LatencyHistogram window;
  std::vector<rd_kafka_message_t*> batch(1024);
  while (!side->stop.load(std::memory_order_acquire)) {
    size_t n = NextMessages(rk, queue, 50, &batch);
    int64_t now_ns = PerfNowNs();
    for (size_t i = 0; i < n; ++i) {
      RdPtr<rd_kafka_message_t, rd_kafka_message_destroy> m(batch[i]);
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (side->error.empty()) {
          side->error = fmt::format("{}: {}", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m.get()));
        }
        continue;
      }
      if (m->key_len > 0) {  // Only the warm-up message has a key.
        side->warmed_up.store(true, std::memory_order_release);
        continue;
      }
      if (m->len < sizeof(int64_t)) continue;
      int64_t sent_ns = 0;
      std::memcpy(&sent_ns, m->payload, sizeof sent_ns);
      side->latency.Record((now_ns - sent_ns) / 1000);
      window.Record((now_ns - sent_ns) / 1000);
      side->bytes += m->len;
      side->received.fetch_add(1, std::memory_order_release);
    }
    progress.Tick(PerfClock::now(), static_cast<uint64_t>(side->received.load()), side->bytes,
                  &window);
  }
  progress.Finish();
}

// Sends the warm-up message and waits until the consumer has seen it: both
// connections are up and the first fetch has returned before the clock runs.
CommandStatus WarmUp(KafkaClient& producer, rd_kafka_topic_t* topic, const ConsumeSide& side) {
  if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                       const_cast<char*>("warm-up"), 7, kWarmupKey.data(), kWarmupKey.size(),
                       nullptr) != 0) {
    return CommandStatus::Kafka(rd_kafka_last_error(), "warm-up message refused");
  }
  rd_kafka_flush(producer.get(), producer.timeout_ms());
  auto deadline = PerfClock::now() + std::chrono::milliseconds(producer.timeout_ms());
  while (!side.warmed_up.load(std::memory_order_acquire)) {
    if (PerfClock::now() > deadline || PerfStopRequested()) {
      return CommandStatus::Failed(fmt::format(
          "the consumer did not receive the warm-up message within {} ms", producer.timeout_ms()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {};
}

}  // namespace

int RunPerfE2e(const GlobalOptions& global, const PerfOptions& opts) {
  if (opts.size < static_cast<int>(sizeof(int64_t))) {
    return Finish(CommandStatus::Usage("--size must be at least 8 (the send time is in the value)"));
  }
  int64_t count = opts.messages;
  double duration_s = opts.duration_s;
  if (count < 0 && duration_s <= 0) duration_s = 10;

  std::unique_ptr<KafkaClient> producer;
  CommandStatus s = KafkaClient::Open(global, KafkaClient::Role::kProducer,
                                      PerfProducerSettings(opts), &producer);
  if (!s.ok()) return Finish(s);
  int partitions = 0;
  s = EnsureTopic(*producer, opts.topic, opts.partitions, &partitions);
  if (!s.ok()) return Finish(s);
  RdPtr<rd_kafka_topic_t, rd_kafka_topic_destroy> topic(
      rd_kafka_topic_new(producer->get(), opts.topic.c_str(), nullptr));

  PerfOptions consumer_opts = opts;
  consumer_opts.assign = true;
  std::unique_ptr<KafkaClient> consumer;
  s = KafkaClient::Open(global, KafkaClient::Role::kConsumer,
                        PerfConsumerSettings(consumer_opts, UniquePerfGroup()), &consumer);
  if (!s.ok()) return Finish(s);
  rd_kafka_poll_set_consumer(consumer->get());
  s = AssignAtEnd(*consumer, opts.topic, partitions);
  if (!s.ok()) return Finish(s);
  QueuePtr queue(rd_kafka_queue_get_consumer(consumer->get()));

  InstallPerfSignalHandlers();
  ConsumeSide side;
  std::thread consumer_thread(ConsumeLoop, consumer->get(), queue.get(), !opts.quiet, &side);
  s = WarmUp(*producer, topic.get(), side);

  ProduceRun run;
  if (s.ok()) {
    PayloadPool pool(static_cast<size_t>(opts.size));
    std::string value;
    std::optional<PerfClock::time_point> deadline;
    if (duration_s > 0) {
      deadline = PerfClock::now() + std::chrono::duration_cast<PerfClock::duration>(
                                        std::chrono::duration<double>(duration_s));
    }
    PerfProducer(producer.get(), topic.get(), /*progress=*/false)
        .Run(count, deadline, opts.rate,
             [&](uint64_t i, int64_t send_ns) {
               value.assign(pool.Get(i));
               std::memcpy(value.data(), &send_ns, sizeof send_ns);
               return std::string_view(value);
             },
             &run);
    // Wait for the consumer to catch up with every acknowledged message.
    int64_t seen = -1;
    auto last_progress = PerfClock::now();
    while (side.received.load(std::memory_order_acquire) < run.delivered) {
      int64_t now_seen = side.received.load(std::memory_order_acquire);
      if (now_seen != seen) {
        seen = now_seen;
        last_progress = PerfClock::now();
      } else if (PerfClock::now() - last_progress > std::chrono::milliseconds(opts.idle_timeout_ms) ||
                 PerfStopRequested()) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  side.stop.store(true, std::memory_order_release);
  consumer_thread.join();
  rd_kafka_consumer_close(consumer->get());
  if (!s.ok()) return Finish(s);

  double send_s = std::chrono::duration<double>(run.last_send - run.start).count();
  double rate = send_s > 0 ? static_cast<double>(run.sent) / send_s : 0;
  int64_t consumed = side.received.load();
  PerfReport r;
  r.Text("tool", "", "sluice perf e2e");
  r.Text("topic", "topic", opts.topic);
  r.Int("partitions", "partitions", partitions);
  r.Int("size", "message size", opts.size, "B");
  r.Text("acks", "acks", opts.acks);
  r.Text("compression", "compression", opts.compression);
  r.Setting("linger_ms", "linger.ms", opts.linger_ms, "librdkafka default (5)");
  r.Setting("fetch_wait_max_ms", "fetch.wait.max.ms", opts.fetch_wait_max_ms,
            "librdkafka default (500)");
  r.Real("target_rate", "target rate", opts.rate, 0, opts.rate > 0 ? "msg/s" : "(unlimited)");
  r.Real("msgs_per_s", "achieved rate", rate, 1, "msg/s");
  r.Real("mb_per_s", "", rate * opts.size / 1e6, 3);
  r.Int("messages", "messages acknowledged", run.delivered);
  r.Int("failed", "failed", run.failed);
  r.Int("consumed", "messages consumed", consumed);
  r.Latency("latency_ms", "latency (send to consume)", Summarize(side.latency));
  r.Latency("delivery_latency_ms", "latency (send to ack)", Summarize(run.delivery));
  PrintPerfReport(r, opts.json);

  if (run.failed > 0) {
    return Finish(CommandStatus::Failed(
        fmt::format("{} messages failed; the first: {}", run.failed, run.first_error)));
  }
  if (consumed < run.delivered) {
    return Finish(CommandStatus::Failed(fmt::format(
        "consumed {} of {} acknowledged messages{}", consumed, run.delivered,
        side.error.empty() ? "" : " (" + side.error + ")")));
  }
  if (PerfStopRequested()) return Finish(CommandStatus::Failed("interrupted"));
  return kExitOk;
}

}  // namespace sluice::tools
