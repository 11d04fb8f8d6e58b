// nats_bench: publishes to a NATS JetStream stream (file storage, one
// replica) and reports what `sluice perf produce` reports for Sluice, in the
// same fields: messages, msg/s, MB/s and the send -> acknowledgement latency
// (here the JetStream PubAck). It creates the stream through the JetStream
// API and deletes it afterwards (unless --keep).
//
// Publishing is asynchronous with a window: up to --window messages await
// their PubAck at once (the way NATS clients publish fast), each with its own
// reply subject so every ack is matched to its send time. --rate paces the
// sends instead of running flat out.
//
//   nats_bench --server 127.0.0.1:4222 [--stream NAME] [--messages N]
//              [--size B] [--window W] [--rate R] [--keep] [--json] [--quiet]
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "nats_connection.h"
#include "windowed_sender.h"
#include "tools/perf_report.h"
#include "tools/perf_stats.h"

namespace sluice::bench {
namespace {

using tools::PerfClock;

struct Options {
  std::string server;
  std::string stream = "bench";
  int64_t messages = 1000000;
  int size = 100;
  int64_t window = 4000;
  double rate = 0;
  bool keep = false;
  bool json = false;
  bool quiet = false;
};

// Counts of one run, filled by the MSG handler.
struct Run {
  std::vector<int64_t> send_ns;  // Per message; -1 once acknowledged.
  int64_t acked = 0;
  int64_t failed = 0;
  std::string first_error;
  tools::LatencyHistogram latency;
  tools::LatencyHistogram interval;  // Since the last progress line.
  PerfClock::time_point last_ack;
};

class Bench {
 public:
  explicit Bench(Options opts)
      : opts_(std::move(opts)), inbox_(fmt::format("_INBOX.nats_bench{}", ::getpid())) {}

  int Main();

 private:
  void OnMessage(std::string_view subject, std::string_view payload);
  // A JetStream API call: publishes `body` to `subject` and waits for the
  // reply. Empty on success (a reply without "error"), else why.
  std::string ApiRequest(const std::string& subject, std::string_view body);
  bool Publish();  // The measured run. False if the connection broke.
  void Report(double elapsed) const;

  Options opts_;
  std::string inbox_;
  NatsConnection conn_;
  std::string api_reply_;
  bool api_answered_ = false;
  Run run_;
};

void Bench::OnMessage(std::string_view subject, std::string_view payload) {
  std::string_view suffix = subject.substr(subject.rfind('.') + 1);
  if (suffix == "api") {
    api_reply_.assign(payload);
    api_answered_ = true;
    return;
  }
  size_t id = 0;
  auto [end, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), id);
  if (ec != std::errc() || end != suffix.data() + suffix.size() || id >= run_.send_ns.size() ||
      run_.send_ns[id] < 0) {
    return;  // Not one of ours, or a duplicate.
  }
  int64_t latency_us = (tools::PerfNowNs() - run_.send_ns[id]) / 1000;
  run_.send_ns[id] = -1;
  // A PubAck is {"stream":..,"seq":..}; a refusal is {"error":{..}}.
  if (payload.find("\"error\"") != std::string_view::npos) {
    if (run_.failed++ == 0) run_.first_error.assign(payload);
    return;
  }
  ++run_.acked;
  run_.latency.Record(latency_us);
  run_.interval.Record(latency_us);
  run_.last_ack = PerfClock::now();
}

std::string Bench::ApiRequest(const std::string& subject, std::string_view body) {
  api_answered_ = false;
  conn_.Publish(subject, inbox_ + ".api", body);
  auto deadline = PerfClock::now() + std::chrono::seconds(10);
  while (!api_answered_) {
    if (!conn_.Poll(100)) return conn_.error();
    if (PerfClock::now() > deadline) return "no reply to " + subject + " (JetStream enabled?)";
  }
  if (api_reply_.find("\"error\"") != std::string::npos) return api_reply_;
  return "";
}

bool Bench::Publish() {
  const std::string subject = opts_.stream + ".data";
  const std::string reply_prefix = inbox_ + ".";
  tools::PayloadPool pool(static_cast<size_t>(opts_.size));
  run_.send_ns.assign(static_cast<size_t>(opts_.messages), 0);
  auto send = [&](int64_t first, int64_t n) {
    for (int64_t k = first; k < first + n; ++k) {
      run_.send_ns[static_cast<size_t>(k)] = tools::PerfNowNs();
      conn_.Publish(subject, reply_prefix + std::to_string(k), pool.Get(static_cast<uint64_t>(k)));
    }
    return true;  // Written by the wait's Poll.
  };
  auto wait = [&](int timeout_ms) { return conn_.Poll(timeout_ms); };
  const WindowedSender sender{"nats_bench", opts_.messages, opts_.window, opts_.rate, opts_.size,
                              opts_.quiet};
  return sender.Run(send, wait, run_.acked, run_.failed, &run_.interval);
}

void Bench::Report(double elapsed) const {
  const double bytes = static_cast<double>(run_.acked) * opts_.size;
  tools::PerfReport r;
  r.Text("tool", "", "nats_bench");
  r.Text("stream", "stream", opts_.stream);
  r.Text("storage", "storage", "file");
  r.Int("size", "message size", opts_.size, "B");
  r.Int("window", "window (unacknowledged)", opts_.window);
  r.Real("target_rate", "target rate", opts_.rate, 0, opts_.rate > 0 ? "msg/s" : "(unlimited)");
  r.Int("messages", "messages", run_.acked);
  r.Int("failed", "failed", run_.failed);
  r.Int("bytes", "", static_cast<int64_t>(bytes));
  r.Real("elapsed_s", "elapsed", elapsed, 3, "s");
  r.Rate(static_cast<double>(run_.acked), bytes, elapsed);
  r.Latency("latency_ms", "latency (send to PubAck)", tools::Summarize(run_.latency));
  std::printf("%s\n", opts_.json ? r.Json().c_str() : r.Table().c_str());
}

int Bench::Main() {
  std::string err = conn_.Connect(
      opts_.server, [this](std::string_view s, std::string_view p) { OnMessage(s, p); });
  if (!err.empty()) {
    std::fprintf(stderr, "nats_bench: %s\n", err.c_str());
    return 1;
  }
  conn_.Subscribe(inbox_ + ".>", 1);
  std::string config =
      fmt::format(R"({{"name":"{}","subjects":["{}.>"],"storage":"file","num_replicas":1}})",
                  opts_.stream, opts_.stream);
  err = ApiRequest("$JS.API.STREAM.CREATE." + opts_.stream, config);
  if (!err.empty()) {
    std::fprintf(stderr, "nats_bench: creating stream %s: %s\n", opts_.stream.c_str(), err.c_str());
    return 1;
  }

  auto start = PerfClock::now();
  bool ok = Publish();
  double elapsed =
      run_.acked > 0 ? std::chrono::duration<double>(run_.last_ack - start).count() : 0;
  if (!ok) {
    std::fprintf(stderr, "nats_bench: %s\n",
                 conn_.error().empty() ? "publishing stalled" : conn_.error().c_str());
    return 1;
  }
  if (!opts_.keep) {
    err = ApiRequest("$JS.API.STREAM.DELETE." + opts_.stream, "");
    if (!err.empty()) std::fprintf(stderr, "nats_bench: deleting the stream: %s\n", err.c_str());
  }
  Report(elapsed);
  if (run_.failed > 0) {
    std::fprintf(stderr, "nats_bench: %lld publishes refused; the first: %s\n",
                 static_cast<long long>(run_.failed), run_.first_error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  sluice::bench::Options opts;
  CLI::App app{"Publishes to a NATS JetStream file-storage stream; reports rate and ack latency"};
  app.add_option("--server", opts.server, "nats-server address, IPv4 HOST:PORT")->required();
  app.add_option("--stream", opts.stream, "stream name (created, then deleted); subjects NAME.>");
  app.add_option("--messages", opts.messages, "messages to publish")->check(CLI::PositiveNumber);
  app.add_option("--size", opts.size, "message size in bytes")->check(CLI::Range(1, 1 << 20));
  app.add_option("--window", opts.window, "most messages awaiting their PubAck")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", opts.rate, "messages per second (0: as fast as acks allow)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--keep", opts.keep, "keep the stream afterwards");
  app.add_flag("--json", opts.json, "one JSON object on stdout instead of a table");
  app.add_flag("--quiet", opts.quiet, "no progress lines on stderr");
  CLI11_PARSE(app, argc, argv);
  return sluice::bench::Bench(std::move(opts)).Main();
}
