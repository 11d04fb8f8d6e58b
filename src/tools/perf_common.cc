#include "tools/perf_common.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

namespace sluice::tools {

static_assert(std::is_same_v<PerfClock::duration, std::chrono::nanoseconds>,
              "delivery latency subtracts raw clock counts from PerfNowNs()");

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

// The first Ctrl-C stops and reports; a second one kills, should draining hang.
void OnPerfSignal(int sig) {
  g_stop.store(true, std::memory_order_relaxed);
  std::signal(sig, SIG_DFL);
}

CommandStatus CreateTopic(KafkaClient& client, const std::string& topic, int partitions) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, errstr, sizeof errstr);
  if (nt == nullptr) return CommandStatus::Usage(errstr);
  RdPtr<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy> owned(nt);
  EventPtr ev;
  CommandStatus s = client.RunAdmin(
      RD_KAFKA_EVENT_CREATETOPICS_RESULT,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreateTopics(client.get(), &nt, 1, options, queue);
      },
      &ev);
  if (!s.ok()) return s;
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    return CommandStatus::Kafka(err, msg != nullptr ? msg : "");
  }
  return {};
}

// Metadata for the topic until every partition has a leader (a new topic
// needs a moment); asking for the topic by name lets auto-creation happen.
CommandStatus WaitForLeaders(KafkaClient& client, const std::string& topic, int* count) {
  auto deadline = PerfClock::now() + std::chrono::milliseconds(client.timeout_ms());
  std::string why;
  do {
    MetadataPtr md;
    CommandStatus s = client.FetchMetadata(&md, topic.c_str());
    if (!s.ok()) return s;
    const rd_kafka_metadata_topic_t* t = nullptr;
    s = KafkaClient::FindTopic(*md, topic, &t);
    if (s.ok()) {
      bool ready = t->partition_cnt > 0;
      for (int i = 0; i < t->partition_cnt; ++i) {
        ready = ready && t->partitions[i].leader >= 0 &&
                t->partitions[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
      }
      if (ready) {
        *count = t->partition_cnt;
        return {};
      }
      why = "not every partition has a leader";
    } else {
      why = s.message();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (PerfClock::now() < deadline);
  return CommandStatus::Failed(
      fmt::format("topic '{}' not ready within {} ms: {}", topic, client.timeout_ms(), why));
}

}  // namespace

bool PerfStopRequested() { return g_stop.load(std::memory_order_relaxed); }

void InstallPerfSignalHandlers() {
  std::signal(SIGINT, OnPerfSignal);
  std::signal(SIGTERM, OnPerfSignal);
}

std::vector<KeyValue> PerfProducerSettings(const PerfOptions& opts) {
  std::vector<KeyValue> s = {
      {"client.id", "sluice-perf"},
      {"acks", opts.acks},
      {"compression.type", opts.compression},
      // Lets brokers without CreateTopics auto-create the topic.
      {"allow.auto.create.topics", "true"},
      // A broker that stops answering fails the run in 30 s, not librdkafka's 5 min.
      {"message.timeout.ms", "30000"},
  };
  if (opts.linger_ms >= 0) s.emplace_back("linger.ms", std::to_string(opts.linger_ms));
  if (opts.batch_size > 0) s.emplace_back("batch.size", std::to_string(opts.batch_size));
  return s;
}

std::vector<KeyValue> PerfConsumerSettings(const PerfOptions& opts, const std::string& group) {
  std::vector<KeyValue> s = {
      {"client.id", "sluice-perf"},
      {"group.id", group},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
  };
  if (opts.assign) s.emplace_back("enable.auto.commit", "false");
  if (opts.fetch_wait_max_ms >= 0) {
    s.emplace_back("fetch.wait.max.ms", std::to_string(opts.fetch_wait_max_ms));
  }
  return s;
}

std::string UniquePerfGroup() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("sluice-perf-{}-{}", ::getpid(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

CommandStatus EnsureTopic(KafkaClient& client, const std::string& topic, int partitions,
                          int* partition_count) {
  MetadataPtr md;
  CommandStatus s = client.FetchMetadata(&md);
  if (!s.ok()) return s;
  const rd_kafka_metadata_topic_t* t = nullptr;
  if (KafkaClient::FindTopic(*md, topic, &t).ok()) {
    if (partitions > 0 && t->partition_cnt != partitions) {
      std::fprintf(stderr, "warning: topic '%s' exists with %d partitions (not %d); using it\n",
                   topic.c_str(), t->partition_cnt, partitions);
    }
    return WaitForLeaders(client, topic, partition_count);
  }
  CommandStatus created = CreateTopic(client, topic, partitions);
  s = WaitForLeaders(client, topic, partition_count);
  // Without CreateTopics (e.g. librdkafka's mock cluster) auto-creation may
  // still have made it; otherwise the create error is the one to show.
  if (!s.ok() && !created.ok()) return created;
  if (s.ok() && !created.ok()) {
    std::fprintf(stderr, "warning: CreateTopics failed (%s); the topic was auto-created\n",
                 created.message().c_str());
  }
  return s;
}

CommandStatus TopicPartitions(KafkaClient& client, const std::string& topic, int* count) {
  MetadataPtr md;
  CommandStatus s = client.FetchMetadata(&md);
  if (!s.ok()) return s;
  const rd_kafka_metadata_topic_t* t = nullptr;
  s = KafkaClient::FindTopic(*md, topic, &t);
  if (!s.ok()) return s;
  *count = t->partition_cnt;
  return {};
}

CommandStatus Watermarks(KafkaClient& client, const std::string& topic, int partitions,
                         std::vector<std::pair<int64_t, int64_t>>* out) {
  out->clear();
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), p,
                                                               &low, &high, client.timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return CommandStatus::Kafka(err, fmt::format("offsets of {}-{}: {}", topic, p,
                                                   rd_kafka_err2str(err)));
    }
    out->emplace_back(low, high);
  }
  return {};
}

size_t NextMessages(rd_kafka_t* rk, rd_kafka_queue_t* queue, int timeout_ms,
                    std::vector<rd_kafka_message_t*>* batch) {
  rd_kafka_message_t* first = rd_kafka_consumer_poll(rk, timeout_ms);
  if (first == nullptr) return 0;
  (*batch)[0] = first;
  ssize_t more = rd_kafka_consume_batch_queue(queue, 0, batch->data() + 1, batch->size() - 1);
  return 1 + static_cast<size_t>(std::max<ssize_t>(more, 0));
}

void PrintPerfReport(const PerfReport& report, bool json) {
  std::string text = json ? report.Json() + "\n" : report.Table();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void PerfProducer::Run(int64_t count, std::optional<PerfClock::time_point> deadline, double rate,
                       const ValueFn& value, ProduceRun* out) {
  LatencyHistogram window;
  ProgressLine progress(progress_, "produced");
  // Runs on the poll thread only, so the histograms need no lock.
  client_->set_delivery_handler([&](const rd_kafka_message_t& m) {
    auto sent_ns = static_cast<int64_t>(reinterpret_cast<intptr_t>(m._private));
    PerfClock::time_point now = PerfClock::now();
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      int64_t us = (now.time_since_epoch().count() - sent_ns) / 1000;
      out->delivery.Record(us);
      window.Record(us);
      ++out->delivered;
      out->bytes += m.len;
      out->last_delivery = now;
    } else {
      ++out->failed;
      if (out->first_error.empty()) {
        out->first_error =
            fmt::format("{}: {}", rd_kafka_err2name(m.err), rd_kafka_message_errstr(&m));
      }
    }
  });

  std::atomic<bool> sending_done{false};
  std::thread poller([&] {
    for (;;) {
      rd_kafka_poll(client_->get(), 50);
      progress.Tick(PerfClock::now(), static_cast<uint64_t>(out->delivered), out->bytes, &window);
      if (sending_done.load(std::memory_order_acquire) && rd_kafka_outq_len(client_->get()) == 0) {
        break;
      }
    }
  });

  Pacer pacer(rate);
  int64_t sent = 0;
  int64_t refused = 0;
  std::string refused_error;
  out->start = out->last_send = PerfClock::now();
  while (!PerfStopRequested() && (count < 0 || sent < count)) {
    PerfClock::time_point now = PerfClock::now();
    if (deadline && now >= *deadline) break;
    int64_t due = pacer.Due(sent, now);
    if (due == 0) {
      std::this_thread::sleep_until(pacer.NextDue(sent));
      continue;
    }
    if (count >= 0) due = std::min(due, count - sent);
    for (int64_t k = 0; k < due; ++k) {
      int64_t send_ns = PerfNowNs();
      std::string_view v = value(static_cast<uint64_t>(sent), send_ns);
      // F_BLOCK waits for room in librdkafka's queue; the poll thread frees it.
      if (rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK,
                           const_cast<char*>(v.data()), v.size(), nullptr, 0,
                           reinterpret_cast<void*>(static_cast<intptr_t>(send_ns))) != 0) {
        rd_kafka_resp_err_t err = rd_kafka_last_error();
        ++refused;
        refused_error = fmt::format("{}: {}", rd_kafka_err2name(err), rd_kafka_err2str(err));
        break;
      }
      ++sent;
    }
    if (refused > 0) break;  // e.g. a value over message.max.bytes: every send would fail.
  }
  out->last_send = PerfClock::now();
  out->sent = sent;
  // message.timeout.ms bounds how long the poll thread waits for stragglers.
  sending_done.store(true, std::memory_order_release);
  poller.join();
  progress.Finish();
  client_->set_delivery_handler(nullptr);
  out->failed += refused;
  if (out->first_error.empty()) out->first_error = refused_error;
}

}  // namespace sluice::tools
