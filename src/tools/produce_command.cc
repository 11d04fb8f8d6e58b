// sluice produce: one message per stdin line, delivered asynchronously; every
// failed delivery is reported with its line number.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "tools/commands.h"

namespace sluice::tools {

namespace {

struct Tally {
  int64_t sent = 0;
  int64_t failed = 0;
};

void ReportFailure(int64_t line, rd_kafka_resp_err_t err, const char* why, Tally* tally) {
  ++tally->failed;
  std::fprintf(stderr, "error: line %lld: %s: %s\n", static_cast<long long>(line),
               rd_kafka_err2name(err), why);
}

// Frees getline()'s buffer on every exit path.
struct LineBuffer {
  char* data = nullptr;
  size_t capacity = 0;
  ~LineBuffer() { std::free(data); }
};

}  // namespace

int RunProduce(const GlobalOptions& global, const ProduceOptions& opts) {
  std::optional<std::string> separator;
  if (opts.key_separator) {
    Result<std::string> sep = Unescape(*opts.key_separator);
    if (!sep.ok()) return Finish(CommandStatus::Usage("--key-separator: " + sep.status().message()));
    if (sep->empty()) return Finish(CommandStatus::Usage("--key-separator must not be empty"));
    separator = *sep;
  }
  Result<std::vector<KeyValue>> headers = ParseKeyValues(opts.headers);
  if (!headers.ok()) return Finish(CommandStatus::Usage("--header: " + headers.status().message()));

  // Producing to a missing topic may create it, as with Kafka's own tools.
  std::vector<KeyValue> settings = {{"allow.auto.create.topics", "true"},
                                    {"message.timeout.ms", "30000"}};
  if (!opts.acks.empty()) settings.emplace_back("acks", opts.acks);
  if (!opts.compression.empty()) settings.emplace_back("compression.type", opts.compression);
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, settings, &client,
                                         &md, opts.topic.c_str());
  if (!s.ok()) return Finish(s);
  if (md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR &&
      md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {  // Just created.
    return Finish(CommandStatus::Kafka(
        md->topics[0].err, fmt::format("topic '{}': {}", opts.topic, rd_kafka_err2str(md->topics[0].err))));
  }
  if (opts.partition >= 0 && md->topic_cnt == 1 && md->topics[0].partition_cnt > 0 &&
      opts.partition >= md->topics[0].partition_cnt) {
    return Finish(CommandStatus::Kafka(
        RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        fmt::format("topic '{}' has {} partitions, no partition {}", opts.topic,
                    md->topics[0].partition_cnt, opts.partition)));
  }

  HeadersPtr header_template(rd_kafka_headers_new(headers->size()));
  for (const KeyValue& kv : *headers) {
    rd_kafka_header_add(header_template.get(), kv.first.data(), static_cast<ssize_t>(kv.first.size()),
                        kv.second.data(), static_cast<ssize_t>(kv.second.size()));
  }
  Tally tally;
  client->set_delivery_handler([&tally](const rd_kafka_message_t& m) {
    if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ReportFailure(reinterpret_cast<intptr_t>(m._private), m.err, rd_kafka_message_errstr(&m),
                    &tally);
    }
  });

  LineBuffer buf;
  int64_t line_no = 0;
  ssize_t len;
  while ((len = getline(&buf.data, &buf.capacity, stdin)) >= 0) {
    ++line_no;
    std::string_view line(buf.data, static_cast<size_t>(len));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::optional<std::string_view> key;
    std::optional<std::string_view> value = line;
    if (separator) {
      auto split = SplitKeyValue(line, *separator);
      if (!split) {
        ReportFailure(line_no, RD_KAFKA_RESP_ERR__INVALID_ARG,
                      fmt::format("no key separator '{}' in the line", *opts.key_separator).c_str(),
                      &tally);
        continue;
      }
      key = split->first;
      value = split->second;
    }
    if (opts.null_value_marker && *value == *opts.null_value_marker) value.reset();

    rd_kafka_vu_t vu[7];
    size_t n = 0;
    auto add = [&vu, &n](rd_kafka_vtype_t type) -> decltype(rd_kafka_vu_t::u)& {
      vu[n].vtype = type;
      return vu[n++].u;
    };
    add(RD_KAFKA_VTYPE_TOPIC).cstr = opts.topic.c_str();
    add(RD_KAFKA_VTYPE_PARTITION).i32 = opts.partition;
    add(RD_KAFKA_VTYPE_MSGFLAGS).i = RD_KAFKA_MSG_F_COPY;
    add(RD_KAFKA_VTYPE_OPAQUE).ptr = reinterpret_cast<void*>(line_no);
    if (key) add(RD_KAFKA_VTYPE_KEY).mem = {const_cast<char*>(key->data()), key->size()};
    if (value) add(RD_KAFKA_VTYPE_VALUE).mem = {const_cast<char*>(value->data()), value->size()};
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers->empty()) {
      hdrs = rd_kafka_headers_copy(header_template.get());
      add(RD_KAFKA_VTYPE_HEADERS).headers = hdrs;
    }
    for (;;) {
      rd_kafka_error_t* error = rd_kafka_produceva(client->get(), vu, n);
      if (error == nullptr) {
        ++tally.sent;
        break;  // The message now owns hdrs.
      }
      rd_kafka_resp_err_t err = rd_kafka_error_code(error);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_error_destroy(error);
        rd_kafka_poll(client->get(), 100);  // Let deliveries drain the queue.
        continue;
      }
      ReportFailure(line_no, err, rd_kafka_error_string(error), &tally);
      rd_kafka_error_destroy(error);
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
      break;
    }
    rd_kafka_poll(client->get(), 0);
  }
  // message.timeout.ms bounds how long an undeliverable message stays queued.
  while (rd_kafka_outq_len(client->get()) > 0) rd_kafka_flush(client->get(), 1000);

  if (tally.failed > 0) {
    return Finish(CommandStatus::Failed(
        fmt::format("{} of {} messages failed", tally.failed, line_no)));
  }
  return kExitOk;
}

}  // namespace sluice::tools
