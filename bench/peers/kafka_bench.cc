// kafka_bench: the lean Kafka producer that bench/run.sh --peers drives Sluice
// with next to nats_bench and redis-benchmark, so that the servers are
// compared with clients of the same kind. `sluice perf produce` goes through
// librdkafka, whose per-message cost and internal queues dominate its figures;
// this speaks the Kafka protocol itself with the project's protocol library
// and reports the same fields, so the figures read the same.
//
// One connection, pipelined Produce requests (the broker answers in order).
// Like a real producer with one broker connection, each request carries one
// v2 record batch for every partition that has messages: the messages a
// request takes are spread evenly over the partitions, at most --batch per
// partition. Up to --window messages are sent but not yet acknowledged; as
// soon as acknowledgements free room, the next messages go out (no linger).
// --rate paces the sends instead of running flat out.
//
// A message's latency runs from the moment the socket took the request that
// carries it to the moment its Produce response was read. Every partition's
// error code is checked; at the end the topic's end offsets must have grown by
// the number of acknowledged messages.
//
//   kafka_bench --bootstrap 127.0.0.1:9092 [--topic T] [--partitions N]
//               [--messages N] [--size B] [--acks 1|all] [--batch M]
//               [--window W] [--rate R] [--keep] [--json] [--quiet]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "kafka_connection.h"
#include "windowed_sender.h"
#include "model/record_batch_builder.h"
#include "protocol/error_code.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/produce.h"
#include "tools/perf_report.h"
#include "tools/perf_stats.h"

namespace sluice::bench {
namespace {

using tools::PerfClock;

constexpr int16_t kProduceVersion = 9;  // The newest this build speaks; flexible.
constexpr int kTimeoutMs = 30000;

struct Options {
  std::string bootstrap;
  std::string topic = "kafka-bench";
  int partitions = 4;
  int64_t messages = 1000000;
  int size = 100;
  std::string acks = "1";
  int batch = 1000;
  int64_t window = 4000;
  double rate = 0;
  bool keep = false;
  bool json = false;
  bool quiet = false;
};

// A Produce request on its way: what it carries and when it left.
struct Sent {
  uint64_t end = 0;      // Its end in the connection's byte stream.
  int64_t send_ns = -1;  // When the socket took its last byte.
  // (partition, records) of each batch it carries.
  std::vector<std::pair<int32_t, int32_t>> batches;
};

std::string ErrorName(int16_t code) {
  return std::string(protocol::ErrorCodeName(static_cast<protocol::ErrorCode>(code)));
}

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Bench {
 public:
  explicit Bench(Options opts) : opts_(std::move(opts)), pool_(static_cast<size_t>(opts_.size)) {}

  int Main();

 private:
  // Uses the topic if it exists, else creates it; waits for every
  // partition's leader and sets partitions_.
  std::string PrepareTopic();
  std::string FetchPartitions(bool* exists);
  std::string DeleteTopic();
  // Latest offset of every partition.
  std::string EndOffsets(std::vector<int64_t>* out);
  // The end offsets must grow by what was acknowledged; the broker may
  // publish them a moment after the ack, so this waits up to 10 s.
  std::string Verify(const std::vector<int64_t>& before, int64_t* grown);

  // Queues one Produce request carrying messages [first, first + count).
  void SendProduce(int64_t first, int64_t count);
  // Stamps the send time of requests the socket has now taken whole.
  void StampWritten();
  void OnProduceResponse(protocol::Reader& body);
  bool Produce();  // The measured run. False if the connection broke.
  void Report(double elapsed, int64_t grown) const;

  Options opts_;
  tools::PayloadPool pool_;
  KafkaConnection conn_;
  int16_t acks_ = 1;
  int16_t produce_version_ = -1;
  int32_t partitions_ = 0;
  int32_t next_partition_ = 0;  // Where the next request's spread starts.
  model::RecordBatchBuilder builder_;
  protocol::ProduceRequest request_;    // Reused: keeps its capacity.
  protocol::ProduceResponse response_;  // Likewise.
  std::deque<Sent> in_flight_;
  size_t stamped_ = 0;  // in_flight_[0, stamped_) have their send time.
  int64_t requests_ = 0;

  int64_t acked_ = 0;
  int64_t failed_ = 0;
  std::string first_error_;
  tools::LatencyHistogram latency_;
  tools::LatencyHistogram interval_;  // Since the last progress line.
  PerfClock::time_point last_ack_;
};

std::string Bench::FetchPartitions(bool* exists) {
  *exists = false;
  int16_t version = conn_.Version(protocol::MetadataRequest::kApiKey, 12);
  if (version < 4) return "the broker speaks no Metadata version from 4 on";
  protocol::MetadataRequest request;
  request.topics.emplace().emplace_back().name = opts_.topic;
  request.allow_auto_topic_creation = false;
  protocol::MetadataResponse response;
  std::string err = conn_.Call(request, version, &response);
  if (!err.empty()) return err;
  for (const auto& t : response.topics) {
    if (t.name != opts_.topic || t.error_code != 0 || t.partitions.empty()) continue;
    for (const auto& p : t.partitions) {
      if (p.error_code != 0 || p.leader_id < 0) return "";  // Not ready yet.
    }
    *exists = true;
    partitions_ = static_cast<int32_t>(t.partitions.size());
  }
  return "";
}

std::string Bench::PrepareTopic() {
  bool exists = false;
  std::string err = FetchPartitions(&exists);
  if (!err.empty()) return err;
  if (exists) {
    if (partitions_ != opts_.partitions) {
      std::fprintf(stderr, "kafka_bench: warning: topic %s has %d partitions (not %d); using it\n",
                   opts_.topic.c_str(), partitions_, opts_.partitions);
    }
    return "";
  }
  int16_t version = conn_.Version(protocol::CreateTopicsRequest::kApiKey, 7);
  if (version < 0) return "the broker does not speak CreateTopics";
  protocol::CreateTopicsRequest request;
  auto& topic = request.topics.emplace_back();
  topic.name = opts_.topic;
  topic.num_partitions = opts_.partitions;
  topic.replication_factor = 1;
  request.timeout_ms = kTimeoutMs;
  protocol::CreateTopicsResponse response;
  err = conn_.Call(request, version, &response);
  if (!err.empty()) return err;
  constexpr int16_t kTopicAlreadyExists =
      protocol::ToWire(protocol::ErrorCode::TOPIC_ALREADY_EXISTS);
  for (const auto& t : response.topics) {
    if (t.error_code != 0 && t.error_code != kTopicAlreadyExists) {
      return "creating " + opts_.topic + ": " + ErrorName(t.error_code) + " " +
             t.error_message.value_or("");
    }
  }
  auto deadline = PerfClock::now() + std::chrono::seconds(30);
  while (PerfClock::now() < deadline) {
    err = FetchPartitions(&exists);
    if (!err.empty() || exists) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "topic " + opts_.topic + " has no leader for every partition after 30 s";
}

std::string Bench::DeleteTopic() {
  int16_t version = conn_.Version(protocol::DeleteTopicsRequest::kApiKey, 6);
  if (version < 0) return "the broker does not speak DeleteTopics";
  protocol::DeleteTopicsRequest request;
  request.topic_names.push_back(opts_.topic);        // Up to v5.
  request.topics.emplace_back().name = opts_.topic;  // v6 on.
  request.timeout_ms = kTimeoutMs;
  protocol::DeleteTopicsResponse response;
  std::string err = conn_.Call(request, version, &response);
  if (!err.empty()) return err;
  for (const auto& t : response.responses) {
    if (t.error_code != 0) return ErrorName(t.error_code);
  }
  return "";
}

std::string Bench::EndOffsets(std::vector<int64_t>* out) {
  int16_t version = conn_.Version(protocol::ListOffsetsRequest::kApiKey, 7);
  if (version < 1) return "the broker speaks no ListOffsets version from 1 on";
  protocol::ListOffsetsRequest request;
  request.replica_id = -1;  // A client, not a follower.
  auto& topic = request.topics.emplace_back();
  topic.name = opts_.topic;
  for (int32_t p = 0; p < partitions_; ++p) {
    auto& partition = topic.partitions.emplace_back();
    partition.partition_index = p;
    partition.timestamp = -1;  // Latest.
  }
  protocol::ListOffsetsResponse response;
  std::string err = conn_.Call(request, version, &response);
  if (!err.empty()) return err;
  out->assign(static_cast<size_t>(partitions_), -1);
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0) return "ListOffsets: " + ErrorName(p.error_code);
      if (p.partition_index >= 0 && p.partition_index < partitions_) {
        (*out)[static_cast<size_t>(p.partition_index)] = p.offset;
      }
    }
  }
  if (std::count(out->begin(), out->end(), -1) > 0) return "ListOffsets: a partition is missing";
  return "";
}

std::string Bench::Verify(const std::vector<int64_t>& before, int64_t* grown) {
  auto deadline = PerfClock::now() + std::chrono::seconds(10);
  for (;;) {
    std::vector<int64_t> after;
    std::string err = EndOffsets(&after);
    if (!err.empty()) return err;
    *grown = 0;
    for (size_t p = 0; p < after.size(); ++p) *grown += after[p] - before[p];
    if (*grown == acked_) return "";
    if (PerfClock::now() > deadline) {
      return fmt::format("the end offsets grew by {}, but {} messages were acknowledged", *grown,
                         acked_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Bench::SendProduce(int64_t first, int64_t count) {
  auto& batches = request_.topic_data.front().partition_data;
  batches.clear();
  Sent sent;
  const int64_t timestamp = WallClockMs();
  const int64_t each = count / partitions_;
  const int64_t extra = count % partitions_;
  int64_t seq = first;
  for (int32_t i = 0; i < partitions_; ++i) {
    const int64_t n = each + (i < extra ? 1 : 0);
    if (n == 0) break;
    const int32_t partition = (next_partition_ + i) % partitions_;
    builder_.Reset();
    for (int64_t k = 0; k < n; ++k, ++seq) {
      builder_.Add(timestamp, std::nullopt, model::AsBytes(pool_.Get(static_cast<uint64_t>(seq))));
    }
    // Cannot fail: the batch has records and is not compressed.
    auto& data = batches.emplace_back();
    data.index = partition;
    data.records = protocol::Records::Owned(std::move(builder_.Build()).value());
    sent.batches.emplace_back(partition, static_cast<int32_t>(n));
  }
  // Partitions that got one message fewer go first next time.
  next_partition_ = static_cast<int32_t>((next_partition_ + extra) % partitions_);
  conn_.Send(request_, produce_version_);
  sent.end = conn_.queued();
  in_flight_.push_back(std::move(sent));
  ++requests_;
}

void Bench::StampWritten() {
  const uint64_t written = conn_.written();
  while (stamped_ < in_flight_.size() && in_flight_[stamped_].end <= written) {
    in_flight_[stamped_++].send_ns = tools::PerfNowNs();
  }
}

void Bench::OnProduceResponse(protocol::Reader& body) {
  const int64_t now_ns = tools::PerfNowNs();
  Sent sent = std::move(in_flight_.front());
  in_flight_.pop_front();
  if (stamped_ > 0) --stamped_;
  // Never the case: a response can only follow a request written whole.
  if (sent.send_ns < 0) sent.send_ns = now_ns;
  const int64_t latency_us = (now_ns - sent.send_ns) / 1000;

  auto fail = [this](int64_t records, const std::string& why) {
    if (failed_ == 0) first_error_ = why;
    failed_ += records;
  };
  Status s = response_.Decode(body, produce_version_);
  if (!s.ok()) {
    for (const auto& [partition, records] : sent.batches) fail(records, s.ToString());
    return;
  }
  for (const auto& [partition, records] : sent.batches) {
    const protocol::ProduceResponse::PartitionProduceResponse* answer = nullptr;
    for (const auto& t : response_.responses) {
      if (t.name != opts_.topic) continue;
      for (const auto& p : t.partition_responses) {
        if (p.index == partition) answer = &p;
      }
    }
    if (answer == nullptr) {
      fail(records, fmt::format("no answer for partition {}", partition));
    } else if (answer->error_code != 0) {
      fail(records, fmt::format("partition {}: {} {}", partition, ErrorName(answer->error_code),
                                answer->error_message.value_or("")));
    } else {
      acked_ += records;
      for (int32_t k = 0; k < records; ++k) {
        latency_.Record(latency_us);
        interval_.Record(latency_us);
      }
    }
  }
  last_ack_ = PerfClock::now();
}

bool Bench::Produce() {
  request_.acks = acks_;
  request_.timeout_ms = kTimeoutMs;
  request_.topic_data.emplace_back().name = opts_.topic;
  const int64_t per_request = int64_t{opts_.batch} * partitions_;
  auto on_response = [this](int32_t, protocol::Reader& body) { OnProduceResponse(body); };
  auto send = [&](int64_t first, int64_t n) {
    for (int64_t k = 0; k < n; k += per_request) {
      SendProduce(first + k, std::min(per_request, n - k));
    }
    return true;  // Written by the wait.
  };
  auto wait = [&](int timeout_ms) {
    // Stamped right after each write, so a request's latency starts when
    // the socket took it, not after the wait.
    bool ok = conn_.Flush();
    StampWritten();
    ok = ok && conn_.Poll(timeout_ms, on_response);
    StampWritten();
    return ok;
  };
  const WindowedSender sender{"kafka_bench", opts_.messages, opts_.window, opts_.rate, opts_.size,
                              opts_.quiet};
  return sender.Run(send, wait, acked_, failed_, &interval_);
}

void Bench::Report(double elapsed, int64_t grown) const {
  const double bytes = static_cast<double>(acked_) * opts_.size;
  tools::PerfReport r;
  r.Text("tool", "", "kafka_bench");
  r.Text("topic", "topic", opts_.topic);
  r.Int("partitions", "partitions", partitions_);
  r.Int("size", "message size", opts_.size, "B");
  r.Text("acks", "acks", acks_ == 1 ? "1" : "all");
  r.Int("produce_version", "Produce version", produce_version_);
  r.Int("batch", "batch (records per partition)", opts_.batch);
  r.Int("window", "window (unacknowledged)", opts_.window);
  r.Real("target_rate", "target rate", opts_.rate, 0, opts_.rate > 0 ? "msg/s" : "(unlimited)");
  r.Int("messages", "messages", acked_);
  r.Int("failed", "failed", failed_);
  r.Int("requests", "requests", requests_);
  r.Int("end_offsets_grown", "end offsets grew by", grown);
  r.Int("bytes", "", static_cast<int64_t>(bytes));
  r.Real("elapsed_s", "elapsed", elapsed, 3, "s");
  r.Rate(static_cast<double>(acked_), bytes, elapsed);
  r.Latency("latency_ms", "latency (send to ack)", tools::Summarize(latency_));
  std::printf("%s\n", opts_.json ? r.Json().c_str() : r.Table().c_str());
}

int Bench::Main() {
  acks_ = opts_.acks == "1" ? int16_t{1} : int16_t{-1};
  std::string err = conn_.Connect(opts_.bootstrap, "kafka_bench");
  if (err.empty()) {
    produce_version_ = conn_.Version(protocol::ProduceRequest::kApiKey, kProduceVersion);
    // v3 is the first with v2 record batches.
    if (produce_version_ < 3) err = "the broker speaks no Produce version from 3 on";
  }
  if (err.empty()) err = PrepareTopic();
  std::vector<int64_t> before;
  if (err.empty()) err = EndOffsets(&before);
  if (!err.empty()) {
    std::fprintf(stderr, "kafka_bench: %s\n", err.c_str());
    return 1;
  }

  auto start = PerfClock::now();
  bool ok = Produce();
  double elapsed = acked_ > 0 ? std::chrono::duration<double>(last_ack_ - start).count() : 0;
  if (!ok) {
    std::fprintf(stderr, "kafka_bench: %s\n",
                 conn_.error().empty() ? "producing stalled" : conn_.error().c_str());
    return 1;
  }
  int64_t grown = 0;
  std::string mismatch = Verify(before, &grown);
  if (!opts_.keep) {
    err = DeleteTopic();
    if (!err.empty()) std::fprintf(stderr, "kafka_bench: deleting the topic: %s\n", err.c_str());
  }
  Report(elapsed, grown);
  int status = 0;
  if (failed_ > 0) {
    std::fprintf(stderr, "kafka_bench: %lld messages refused; the first: %s\n",
                 static_cast<long long>(failed_), first_error_.c_str());
    status = 1;
  }
  if (!mismatch.empty()) {
    std::fprintf(stderr, "kafka_bench: %s\n", mismatch.c_str());
    status = 1;
  }
  return status;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  sluice::bench::Options opts;
  CLI::App app{
      "Produces to a Sluice (Kafka) topic over one pipelined connection; reports rate "
      "and ack latency"};
  app.add_option("--bootstrap", opts.bootstrap, "broker address, IPv4 HOST:PORT")->required();
  app.add_option("--topic", opts.topic, "topic (created if missing, deleted afterwards)");
  app.add_option("--partitions", opts.partitions, "partitions of a topic it creates")
      ->check(CLI::Range(1, 100000));
  app.add_option("--messages", opts.messages, "messages to produce")->check(CLI::PositiveNumber);
  app.add_option("--size", opts.size, "message size in bytes")->check(CLI::Range(1, 1 << 20));
  app.add_option("--acks", opts.acks, "1, or all (-1)")
      ->transform(CLI::Transformer({{"-1", "all"}}))
      ->check(CLI::IsMember({"1", "all"}));
  app.add_option("--batch", opts.batch, "most records in one partition's batch")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--window", opts.window, "most messages sent but not yet acknowledged")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", opts.rate, "messages per second (0: as fast as acks allow)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--keep", opts.keep, "keep the topic afterwards");
  app.add_flag("--json", opts.json, "one JSON object on stdout instead of a table");
  app.add_flag("--quiet", opts.quiet, "no progress lines on stderr");
  CLI11_PARSE(app, argc, argv);
  return sluice::bench::Bench(std::move(opts)).Main();
}
