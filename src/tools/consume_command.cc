// sluice consume: messages to stdout through a --format template. Without a
// group the tool assigns partitions itself and commits nothing; with --group
// it subscribes and the group keeps the offsets.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "tools/commands.h"
#include "tools/format.h"

namespace sluice::tools {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

// The first Ctrl-C stops cleanly (committing a group's offsets); a second one
// kills, should closing hang.
void OnSignal(int sig) {
  g_interrupted = 1;
  std::signal(sig, SIG_DFL);
}

using Clock = std::chrono::steady_clock;

CommandStatus CheckOptions(const ConsumeOptions& opts) {
  int starts = int{opts.from_beginning} + int{opts.offset.has_value()} +
               int{opts.timestamp_ms.has_value()};
  if (starts > 1) {
    return CommandStatus::Usage("give only one of --from-beginning, --offset, --timestamp");
  }
  if (!opts.group.empty() && (opts.offset || opts.timestamp_ms || opts.partition >= 0)) {
    return CommandStatus::Usage(
        "--group assigns partitions and keeps offsets itself; it cannot be combined with "
        "--offset, --timestamp or --partition");
  }
  return {};
}

int64_t ToRdOffset(const StartOffset& start) {
  switch (start.kind) {
    case StartOffset::Kind::kBeginning: return RD_KAFKA_OFFSET_BEGINNING;
    case StartOffset::Kind::kEnd: return RD_KAFKA_OFFSET_END;
    case StartOffset::Kind::kAbsolute: return start.value;
    case StartOffset::Kind::kFromEnd: return RD_KAFKA_OFFSET_TAIL(start.value);
  }
  return RD_KAFKA_OFFSET_END;
}

// Assigns the chosen partitions at the chosen start offsets.
CommandStatus AssignPartitions(KafkaClient& client, const ConsumeOptions& opts,
                               const rd_kafka_metadata_topic_t& topic) {
  StartOffset start;
  if (opts.from_beginning) start.kind = StartOffset::Kind::kBeginning;
  if (opts.offset) {
    Result<StartOffset> parsed = ParseStartOffset(*opts.offset);
    if (!parsed.ok()) return CommandStatus::FromStatus(parsed.status());
    start = *parsed;
  }
  if (opts.partition >= topic.partition_cnt) {
    return CommandStatus::Kafka(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
                                fmt::format("topic '{}' has {} partitions, no partition {}",
                                            opts.topic, topic.partition_cnt, opts.partition));
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(topic.partition_cnt));
  for (int32_t p = 0; p < topic.partition_cnt; ++p) {
    if (opts.partition >= 0 && p != opts.partition) continue;
    rd_kafka_topic_partition_list_add(list.get(), opts.topic.c_str(), p)->offset =
        opts.timestamp_ms ? *opts.timestamp_ms : ToRdOffset(start);
  }
  if (opts.timestamp_ms) {
    rd_kafka_resp_err_t err =
        rd_kafka_offsets_for_times(client.get(), list.get(), client.timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return CommandStatus::Kafka(err, fmt::format("offsets for time {}: {}", *opts.timestamp_ms,
                                                   rd_kafka_err2str(err)));
    }
    for (int i = 0; i < list->cnt; ++i) {
      // -1: nothing that recent yet, so start at the end.
      if (list->elems[i].offset < 0) list->elems[i].offset = RD_KAFKA_OFFSET_END;
    }
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(client.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return CommandStatus::Kafka(err);
  return {};
}

// Whether every assigned partition has reported its end.
bool AllAtEnd(KafkaClient& client, const std::set<int32_t>& at_end) {
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (rd_kafka_assignment(client.get(), &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  PartitionListPtr owned(list);
  for (int i = 0; i < list->cnt; ++i) {
    if (at_end.count(list->elems[i].partition) == 0) return false;
  }
  return list->cnt > 0;
}

void Render(const Format& format, const rd_kafka_message_t& m, std::string* out) {
  MessageFields f;
  f.topic = rd_kafka_topic_name(m.rkt);
  f.partition = m.partition;
  f.offset = m.offset;
  if (m.key != nullptr) f.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
  if (m.payload != nullptr) {
    f.value = std::string_view(static_cast<const char*>(m.payload), m.len);
  }
  rd_kafka_timestamp_type_t ts_type;
  f.timestamp_ms = rd_kafka_message_timestamp(&m, &ts_type);
  rd_kafka_headers_t* hdrs = nullptr;
  if (format.uses_headers() && rd_kafka_message_headers(&m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      HeaderField h{name, std::nullopt};
      if (value != nullptr) h.value = std::string_view(static_cast<const char*>(value), size);
      f.headers.push_back(h);
    }
  }
  format.Render(f, out);
}

}  // namespace

int RunConsume(const GlobalOptions& global, const ConsumeOptions& opts) {
  Result<Format> format = Format::Parse(opts.format);
  if (!format.ok()) return Finish(CommandStatus::Usage("--format: " + format.status().message()));
  CommandStatus s = CheckOptions(opts);
  if (!s.ok()) return Finish(s);

  std::vector<KeyValue> settings = {
      {"enable.partition.eof", opts.exit_at_end ? "true" : "false"}};
  if (opts.group.empty()) {
    // librdkafka needs a group id even to assign(); nothing joins or commits.
    settings.emplace_back("group.id", "sluice-cli");
    settings.emplace_back("enable.auto.commit", "false");
  } else {
    settings.emplace_back("group.id", opts.group);
    settings.emplace_back("auto.offset.reset", opts.from_beginning ? "earliest" : "latest");
  }
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  s = KafkaClient::Connect(global, KafkaClient::Role::kConsumer, settings, &client, &md);
  if (!s.ok()) return Finish(s);
  const rd_kafka_metadata_topic_t* topic = nullptr;
  s = KafkaClient::FindTopic(*md, opts.topic, &topic);
  if (!s.ok()) return Finish(s);

  rd_kafka_poll_set_consumer(client->get());
  bool grouped = !opts.group.empty();
  s = grouped ? client->Subscribe(opts.topic) : AssignPartitions(*client, opts, *topic);
  if (!s.ok()) return Finish(s);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const auto started = Clock::now();
  auto last_activity = started;
  bool assigned = !grouped;
  int64_t consumed = 0;
  std::set<int32_t> at_end;  // Partitions whose last message was printed.
  std::string out;
  while (!g_interrupted && (opts.count < 0 || consumed < opts.count)) {
    RdPtr<rd_kafka_message_t, rd_kafka_message_destroy> m(
        rd_kafka_consumer_poll(client->get(), 200));
    auto now = Clock::now();
    if (!m) {
      std::fflush(stdout);
      // A group needs a moment to hand out partitions; that is not idleness,
      // but one that gives none within the timeout (no coordinator, or more
      // members than partitions) is worth an error rather than silence.
      if (!assigned) {
        assigned = client->HasAssignment();
        if (!assigned && now - started >= std::chrono::milliseconds(global.timeout_ms)) {
          std::string cause = client->last_error();
          s = CommandStatus::Failed(fmt::format(
              "group '{}' was given no partitions of '{}' within {} ms{}", opts.group,
              opts.topic, global.timeout_ms, cause.empty() ? "" : " (" + cause + ")"));
          break;
        }
        last_activity = now;
      }
      if (opts.idle_timeout_ms >= 0 &&
          now - last_activity >= std::chrono::milliseconds(opts.idle_timeout_ms)) {
        break;
      }
      continue;
    }
    last_activity = now;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end.insert(m->partition);
        if (opts.exit_at_end && AllAtEnd(*client, at_end)) break;
        continue;
      }
      CommandStatus e = CommandStatus::Kafka(m->err, rd_kafka_message_errstr(m.get()));
      if (IsPermanentConsumeError(m->err)) {
        s = e;
        break;
      }
      std::fprintf(stderr, "warning: %s\n", e.message().c_str());
      continue;
    }
    assigned = true;
    at_end.erase(m->partition);
    out.clear();
    Render(*format, *m, &out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    ++consumed;
  }
  std::fflush(stdout);
  rd_kafka_consumer_close(client->get());  // Commits the group's offsets.
  return Finish(s);
}

}  // namespace sluice::tools
