// sluice perf consume: reads a topic as fast as it can, either as a fresh
// consumer group (subscribe) or with --assign (every partition from the
// beginning, no group), and reports messages and bytes per second.
#include <fmt/format.h>

#include "tools/perf_commands.h"
#include "tools/perf_common.h"

namespace sluice::tools {

namespace {

// Assigns at the low watermarks just queried rather than at
// RD_KAFKA_OFFSET_BEGINNING: librdkafka 2.0.2 resolves a logical offset with a
// ListOffsets it sends only ~500 ms later, which would count as consuming.
CommandStatus AssignAll(KafkaClient& client, const std::string& topic,
                        const std::vector<std::pair<int64_t, int64_t>>& marks) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(marks.size())));
  for (size_t p = 0; p < marks.size(); ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), static_cast<int32_t>(p))->offset =
        marks[p].first;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(client.get(), list.get());
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? CommandStatus() : CommandStatus::Kafka(err);
}

}  // namespace

int RunPerfConsume(const GlobalOptions& global, const PerfOptions& opts) {
  if (opts.assign && !opts.group.empty()) {
    return Finish(CommandStatus::Usage("--assign reads without a group; drop --group"));
  }
  const std::string group = opts.group.empty() ? UniquePerfGroup() : opts.group;
  std::unique_ptr<KafkaClient> client;
  CommandStatus s = KafkaClient::Open(global, KafkaClient::Role::kConsumer,
                                      PerfConsumerSettings(opts, group), &client);
  if (!s.ok()) return Finish(s);
  int partitions = 0;
  s = TopicPartitions(*client, opts.topic, &partitions);
  if (!s.ok()) return Finish(s);

  std::vector<std::pair<int64_t, int64_t>> marks;
  s = Watermarks(*client, opts.topic, partitions, &marks);
  if (!s.ok()) return Finish(s);
  // Without --messages or --duration: everything in the topic right now.
  int64_t target = opts.messages;
  if (target < 0 && opts.duration_s <= 0) {
    target = 0;
    for (auto [low, high] : marks) target += high - low;
  }

  rd_kafka_poll_set_consumer(client->get());
  s = opts.assign ? AssignAll(*client, opts.topic, marks) : client->Subscribe(opts.topic);
  if (!s.ok()) return Finish(s);
  // Messages are taken in batches from the consumer queue, as
  // confluent-kafka-python's consume() does; rebalances are served inside.
  QueuePtr queue(rd_kafka_queue_get_consumer(client->get()));
  InstallPerfSignalHandlers();

  const PerfClock::time_point start = PerfClock::now();
  std::optional<PerfClock::time_point> deadline;
  if (opts.duration_s > 0) {
    deadline = start + std::chrono::duration_cast<PerfClock::duration>(
                           std::chrono::duration<double>(opts.duration_s));
  }
  // Consuming starts when partitions are assigned: at once with --assign,
  // after joining the group otherwise (reported as start-up).
  std::optional<PerfClock::time_point> ready;
  if (opts.assign) ready = start;
  PerfClock::time_point last = start, last_activity = start;
  int64_t count = 0;
  uint64_t bytes = 0;
  bool idle = false;
  ProgressLine progress(!opts.quiet, "consumed");
  std::vector<rd_kafka_message_t*> batch(4096);
  while (!PerfStopRequested() && (target < 0 || count < target)) {
    size_t n = NextMessages(client->get(), queue.get(), 100, &batch);
    PerfClock::time_point now = PerfClock::now();
    for (size_t i = 0; i < n; ++i) {
      RdPtr<rd_kafka_message_t, rd_kafka_message_destroy> m(batch[i]);
      if (target >= 0 && count >= target) continue;  // The rest of the batch is not wanted.
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        CommandStatus e = CommandStatus::Kafka(m->err, rd_kafka_message_errstr(m.get()));
        if (IsPermanentConsumeError(m->err)) s = e;
        else std::fprintf(stderr, "warning: %s\n", e.message().c_str());
        continue;
      }
      if (!ready) ready = now;
      ++count;
      bytes += m->len + m->key_len;
      last = last_activity = now;
    }
    if (!s.ok()) break;
    if (!ready && client->HasAssignment()) ready = last_activity = now;  // Idle from here.
    progress.Tick(now, static_cast<uint64_t>(count), bytes, nullptr);
    if (deadline && now >= *deadline) break;
    if (now - last_activity >= std::chrono::milliseconds(opts.idle_timeout_ms)) {
      idle = true;
      break;
    }
  }
  progress.Finish();
  rd_kafka_consumer_close(client->get());  // Leaves the group (nothing to commit in assign mode).

  // Throughput from the assignment to the last message, so joining a group
  // is not counted.
  double elapsed =
      ready && count > 0 ? std::chrono::duration<double>(last - *ready).count() : 0;
  PerfReport r;
  r.Text("tool", "", "sluice perf consume");
  r.Text("topic", "topic", opts.topic);
  r.Int("partitions", "partitions", partitions);
  r.Text("mode", "mode", opts.assign ? "assign" : "group");
  if (!opts.assign) r.Text("group", "group", group);
  r.Int("messages", "messages", count);
  r.Int("bytes", "bytes", static_cast<int64_t>(bytes));
  r.Real("startup_ms", "start-up (group join)",
         ready ? std::chrono::duration<double, std::milli>(*ready - start).count() : 0, 1, "ms");
  r.Real("elapsed_s", "elapsed (to last message)", elapsed, 3, "s");
  r.Rate(static_cast<double>(count), static_cast<double>(bytes), elapsed);
  PrintPerfReport(r, opts.json);

  if (!s.ok()) return Finish(s);
  if (target >= 0 && count < target) {
    return Finish(CommandStatus::Failed(fmt::format(
        "consumed {} of {} messages{}", count, target,
        idle ? fmt::format(" (none for {} ms)", opts.idle_timeout_ms) : "")));
  }
  return kExitOk;
}

}  // namespace sluice::tools
