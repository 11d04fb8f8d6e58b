// failover_bench: how long producers wait when a partition leader goes away.
//
// Starts a three-node ZooKeeper ensemble and, for every run, three fresh
// sluice-broker processes (zookeeper.session.timeout.ms as given, 6000 by
// default), creates a topic with replication factor 3 and
// min.insync.replicas=2, and runs an idempotent acks=all librdkafka producer
// at a fixed rate spread over its partitions. After a warm-up it takes one
// broker that leads partitions away and measures, per partition it led,
// from the producer's delivery reports:
//   kill      kill -9 of the broker: `recovered_ms`, from the kill to the
//             first acknowledgement after the outage (on the new leader), and
//             `after_deregistration_ms`, the same from the moment ZooKeeper
//             dropped the broker's registration (the part that does not
//             depend on the session timeout);
//   term      SIGTERM with controlled.shutdown.enable=true: `max_gap_ms`, the
//             longest pause between two consecutive acknowledgements;
//   term-uncontrolled  SIGTERM with controlled.shutdown.enable=false (the
//             broker deregisters at once, so leadership moves after the fact).
// The partitions the broker did not lead are reported too (their longest
// pause) as a control. One JSON line per run, then a summary per scenario:
// median and range over every affected partition of every run.
//
//   build/release/bin/failover_bench --runs 5 --scenario all [--retry-backoff-ms 10]
//
// --victim controller takes the controller instead of another broker;
// --retry-backoff-ms sets the producer's retry.backoff.ms (librdkafka waits
// that long, 100 ms by default, before it sends again after
// NOT_LEADER_OR_FOLLOWER: a floor under every pause); --broker KEY=VALUE and
// --client KEY=VALUE add broker overrides and producer settings (e.g.
// sluice.log.level=debug, debug=msg,topic); --logs DIR keeps each run's
// broker logs. The broker is the sluice-broker next to this program (or
// $SLUICE_BROKER_BINARY); ZooKeeper is Debian's package, run from its jar.
// Delivery errors are counted per partition and kind (`error_kinds`).
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "support/broker_process.h"
#include "support/cluster_znodes.h"
#include "support/kafka_client.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"
#include "zk/zk_client.h"
#include "zk/znodes.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::BrokerProcess;
using testing::WaitUntil;

constexpr int kBrokers = 3;
constexpr char kTopic[] = "failover";

struct Options {
  int runs = 3;
  std::vector<std::string> scenarios = {"kill", "term", "term-uncontrolled"};
  int rate = 2000;  // messages per second, over all partitions
  int partitions = 6;
  int session_timeout_ms = 6000;
  std::string victim = "non-controller";  // or "controller"
  int warmup_ms = 2000;
  // The producer's retry.backoff.ms; librdkafka's default (100) when < 0.
  // After NOT_LEADER_OR_FOLLOWER the client waits this long before it sends
  // again, so it is a floor under every pause a leader change causes.
  int retry_backoff_ms = -1;
  std::string logs;  // a directory: each run's broker logs are written there
  std::vector<std::string> broker_overrides;  // more --override settings for every broker
  std::map<std::string, std::string> client;  // more librdkafka settings for the producer
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Produces to every partition in turn at a fixed rate on a thread of its
// own, and keeps the time of each acknowledgement per partition.
class PacedProducer : public RdKafka::DeliveryReportCb {
 public:
  PacedProducer(const std::string& bootstrap, const Options& o)
      : rate_(o.rate), partitions_(o.partitions), acks_(static_cast<size_t>(o.partitions)) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    std::map<std::string, std::string> settings = {{"bootstrap.servers", bootstrap},
                                                   {"acks", "all"},
                                                   {"enable.idempotence", "true"},
                                                   {"linger.ms", "1"},
                                                   {"message.timeout.ms", "120000"}};
    if (o.retry_backoff_ms >= 0) settings["retry.backoff.ms"] = std::to_string(o.retry_backoff_ms);
    for (const auto& [k, v] : o.client) settings[k] = v;
    for (const auto& [k, v] : settings) {
      if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) Die("config " + k + ": " + err);
    }
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), err) !=
        RdKafka::Conf::CONF_OK) {
      Die(err);
    }
    producer_.reset(RdKafka::Producer::create(conf.get(), err));
    if (!producer_) Die("producer: " + err);
    thread_ = std::thread([this] { Run(); });
  }
  ~PacedProducer() override { Stop(); }

  size_t acked() const { return acked_.load(); }
  size_t errors() const { return errors_.load(); }
  // Stops producing and waits for every outstanding report.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // After Stop: the delivery errors, "p<partition> <error>" -> count.
  const std::map<std::string, size_t>& error_kinds() const { return error_kinds_; }
  // After Stop: each partition's acknowledgement times, in order.
  const std::vector<std::vector<Clock::time_point>>& acks() const { return acks_; }

  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      ++errors_;
      ++error_kinds_[fmt::format("p{} {}", m.partition(), RdKafka::err2str(m.err()))];
      return;
    }
    acks_[static_cast<size_t>(m.partition())].push_back(Clock::now());
    ++acked_;
  }

 private:
  static void Die(const std::string& why) {
    std::fprintf(stderr, "failover_bench: %s\n", why.c_str());
    std::exit(1);
  }

  void Run() {
    const std::string payload(100, 'x');
    const auto start = Clock::now();
    uint64_t sent = 0;
    while (!stop_) {
      const auto due = static_cast<uint64_t>(Ms(Clock::now() - start) * rate_ / 1000.0);
      while (sent < due && !stop_) {
        const auto partition = static_cast<int32_t>(sent % static_cast<uint64_t>(partitions_));
        RdKafka::ErrorCode err = producer_->produce(
            kTopic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(payload.data()),
            payload.size(), nullptr, 0, 0, nullptr);
        if (err == RdKafka::ERR__QUEUE_FULL) {
          producer_->poll(1);
          continue;
        }
        if (err != RdKafka::ERR_NO_ERROR) ++errors_;
        ++sent;
      }
      producer_->poll(0);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    producer_->flush(120000);
    producer_->poll(0);
  }

  const int rate_;
  const int partitions_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0};
  std::atomic<size_t> errors_{0};
  std::vector<std::vector<Clock::time_point>> acks_;  // the producer thread's until Stop
  std::map<std::string, size_t> error_kinds_;         // likewise
  std::thread thread_;
};

// The longest pause between consecutive acknowledgements in `acks` around
// `t0` (from the last one before it), and the end of that pause.
struct Gap {
  double ms = 0;
  std::optional<Clock::time_point> ended;
};
Gap LongestGapAfter(const std::vector<Clock::time_point>& acks, Clock::time_point t0) {
  Gap out;
  auto it = std::upper_bound(acks.begin(), acks.end(), t0);
  if (it != acks.begin()) --it;  // the last acknowledgement before t0
  for (auto next = it; next != acks.end() && std::next(next) != acks.end(); ++next) {
    const double gap = Ms(*std::next(next) - *next);
    if (gap > out.ms) {
      out.ms = gap;
      out.ended = *std::next(next);
    }
  }
  return out;
}

struct RunResult {
  std::string scenario;
  int run = 0;
  int32_t victim = -1;
  bool victim_was_controller = false;
  std::vector<int32_t> affected;
  std::vector<double> metric;                // per affected partition (the scenario's figure)
  std::vector<double> after_deregistration;  // kill only
  double unaffected_max_gap_ms = 0;
  double deregistered_after_ms = -1;
  double exited_after_ms = -1;
  size_t acked = 0;
  size_t errors = 0;
  std::map<std::string, size_t> error_kinds;
};

class Cluster {
 public:
  Cluster(testing::ZooKeeperEnsemble& zk, std::string chroot, const Options& o, bool controlled)
      : zk_(zk), chroot_(std::move(chroot)), options_(o), controlled_(controlled) {}

  bool Start() {
    for (int32_t id = 1; id <= kBrokers; ++id) {
      if (!StartBroker(id)) return false;
    }
    zk::ZkOptions zo;
    zo.connect = zk_.connect_string() + chroot_;
    auto c = zk::ZkClient::Connect(zo);
    if (!c.ok()) return false;
    client_ = std::move(*c);
    return WaitUntil([&] {
      return testing::LiveBrokerIds(*client_).size() == kBrokers &&
             testing::ControllerId(*client_) > 0;
    });
  }

  bool StartBroker(int32_t id) {
    testing::BrokerProcessOptions bo;
    bo.default_listener = false;
    bo.log_dir = dirs_[static_cast<size_t>(id - 1)].path() / "data";
    bo.overrides = {"listeners=PLAINTEXT://127.0.0.1:0",
                    fmt::format("broker.id={}", id),
                    "zookeeper.connect=" + zk_.connect_string() + chroot_,
                    fmt::format("zookeeper.session.timeout.ms={}", options_.session_timeout_ms),
                    fmt::format("controlled.shutdown.enable={}", controlled_),
                    "sluice.metrics.listener="};
    bo.overrides.insert(bo.overrides.end(), options_.broker_overrides.begin(),
                        options_.broker_overrides.end());
    Status s = broker(id).Start(bo);
    if (!s.ok()) std::fprintf(stderr, "broker %d: %s\n", id, s.ToString().c_str());
    return s.ok();
  }

  BrokerProcess& broker(int32_t id) { return brokers_[static_cast<size_t>(id - 1)]; }
  zk::ZkClient& zk() { return *client_; }
  std::string Bootstrap() {
    std::vector<std::string> out;
    for (auto& b : brokers_) {
      if (b.running()) out.push_back(fmt::format("127.0.0.1:{}", b.port()));
    }
    return fmt::format("{}", fmt::join(out, ","));
  }

  // Creates the topic (asked again while a broker does not see all three
  // live yet) and waits for every partition's leader and full ISR.
  bool CreateTopic() {
    testing::KafkaClient admin(Bootstrap());
    int error = -1;
    WaitUntil([&] {
      error = admin.CreateTopic(kTopic, options_.partitions, 3, {{"min.insync.replicas", "2"}});
      return error != 38;  // INVALID_REPLICATION_FACTOR
    });
    if (error != 0) return false;
    return WaitUntil([&] {
      for (int32_t p = 0; p < options_.partitions; ++p) {
        auto s = testing::ReadPartitionState(*client_, kTopic, p);
        if (!s || s->leader < 0 || s->isr.size() != 3) return false;
      }
      return true;
    });
  }

  std::map<int32_t, int32_t> Leaders() {
    std::map<int32_t, int32_t> out;
    for (int32_t p = 0; p < options_.partitions; ++p) {
      auto s = testing::ReadPartitionState(*client_, kTopic, p);
      out[p] = s ? s->leader : -1;
    }
    return out;
  }

  // After the measurement nothing of the cluster is needed: kill -9.
  void StopAll() {
    for (auto& b : brokers_) {
      if (b.running()) b.Kill();
    }
  }

  // Writes each broker's output to <dir>/<prefix>-broker<id>.log.
  void SaveLogs(const std::string& dir, const std::string& prefix) {
    std::filesystem::create_directories(dir);
    for (int32_t id = 1; id <= kBrokers; ++id) {
      const std::string path = fmt::format("{}/{}-broker{}.log", dir, prefix, id);
      if (FILE* f = std::fopen(path.c_str(), "w")) {
        const std::string out = broker(id).output();
        std::fwrite(out.data(), 1, out.size(), f);
        std::fclose(f);
      }
    }
  }

 private:
  testing::ZooKeeperEnsemble& zk_;
  const std::string chroot_;
  const Options& options_;
  const bool controlled_;
  testing::TempDir dirs_[kBrokers];
  BrokerProcess brokers_[kBrokers];
  std::unique_ptr<zk::ZkClient> client_;
};

std::optional<RunResult> RunOnce(testing::ZooKeeperEnsemble& zk, const Options& o,
                                 const std::string& scenario, int run) {
  RunResult r;
  r.scenario = scenario;
  r.run = run;
  Cluster cluster(zk, fmt::format("/failover-{}-{}", scenario, run), o,
                  /*controlled=*/scenario != "term-uncontrolled");
  if (!cluster.Start() || !cluster.CreateTopic()) {
    std::fprintf(stderr, "failover_bench: the cluster did not come up\n");
    return std::nullopt;
  }
  PacedProducer producer(cluster.Bootstrap(), o);
  const size_t warm = static_cast<size_t>(o.rate) * static_cast<size_t>(o.warmup_ms) / 1000;
  if (!WaitUntil([&] { return producer.acked() >= warm; }, std::chrono::seconds(60))) {
    std::fprintf(stderr, "failover_bench: no steady production\n");
    return std::nullopt;
  }

  // The victim: the broker (the controller, or not, as asked) that leads
  // the most partitions.
  const int32_t controller = testing::ControllerId(cluster.zk());
  const std::map<int32_t, int32_t> leaders = cluster.Leaders();
  std::map<int32_t, int> led;
  for (const auto& [p, l] : leaders) ++led[l];
  int32_t victim = -1;
  for (int32_t id = 1; id <= kBrokers; ++id) {
    const bool wanted = o.victim == "controller" ? id == controller : id != controller;
    if (wanted && led[id] > 0 && (victim < 0 || led[id] > led[victim])) victim = id;
  }
  if (victim < 0) {
    std::fprintf(stderr, "failover_bench: no %s leads a partition\n", o.victim.c_str());
    return std::nullopt;
  }
  r.victim = victim;
  r.victim_was_controller = victim == controller;
  for (const auto& [p, l] : leaders) {
    if (l == victim) r.affected.push_back(p);
  }

  // When ZooKeeper drops the registration.
  std::atomic<int64_t> gone_ns{0};
  auto watched =
      cluster.zk().Exists(zk::BrokerPath(victim), [&](zk::WatchEvent e, const std::string&) {
        if (e == zk::WatchEvent::kDeleted) {
          gone_ns =
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
                  .count();
        }
      });
  if (!watched.ok()) return std::nullopt;

  const auto t0 = Clock::now();
  if (scenario == "kill") {
    cluster.broker(victim).Kill();
  } else {
    auto code = cluster.broker(victim).Stop(std::chrono::seconds(120));
    if (!code.ok() || *code != 0) {
      std::fprintf(stderr, "failover_bench: broker %d did not stop cleanly\n", victim);
    }
  }
  r.exited_after_ms = Ms(Clock::now() - t0);
  WaitUntil([&] { return gone_ns.load() != 0; }, std::chrono::seconds(60));
  const Clock::time_point gone{std::chrono::nanoseconds(gone_ns.load())};
  if (gone_ns.load() != 0) r.deregistered_after_ms = Ms(gone - t0);
  // Production resumes on every affected partition, then a little more.
  const size_t before = producer.acked();
  WaitUntil([&] { return producer.acked() >= before + static_cast<size_t>(o.rate); },
            std::chrono::seconds(120));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  producer.Stop();
  r.acked = producer.acked();
  r.errors = producer.errors();
  r.error_kinds = producer.error_kinds();

  for (int32_t p = 0; p < o.partitions; ++p) {
    const auto& acks = producer.acks()[static_cast<size_t>(p)];
    const Gap gap = LongestGapAfter(acks, t0);
    const bool affected = std::find(r.affected.begin(), r.affected.end(), p) != r.affected.end();
    if (!affected) {
      r.unaffected_max_gap_ms = std::max(r.unaffected_max_gap_ms, gap.ms);
      continue;
    }
    if (scenario == "kill") {
      // The outage is the longest pause; it ends with the new leader's
      // first acknowledgement.
      r.metric.push_back(gap.ended ? Ms(*gap.ended - t0) : -1);
      r.after_deregistration.push_back(gap.ended && gone_ns.load() != 0 ? Ms(*gap.ended - gone)
                                                                        : -1);
    } else {
      r.metric.push_back(gap.ms);
    }
  }
  cluster.StopAll();
  if (!o.logs.empty()) cluster.SaveLogs(o.logs, fmt::format("{}-{}", scenario, run));
  return r;
}

std::string Json(const RunResult& r, const Options& o) {
  std::string out = fmt::format(
      R"({{"scenario":"{}","run":{},"session_timeout_ms":{},"rate":{},"partitions":{},)"
      R"("retry_backoff_ms":{},"victim":{},"victim_was_controller":{},"affected":[{}],"{}":[{:.1f}],)",
      r.scenario, r.run, o.session_timeout_ms, o.rate, o.partitions,
      o.retry_backoff_ms < 0 ? 100 : o.retry_backoff_ms, r.victim, r.victim_was_controller,
      fmt::join(r.affected, ","), r.scenario == "kill" ? "recovered_ms" : "max_gap_ms",
      fmt::join(r.metric, ","));
  if (r.scenario == "kill") {
    out += fmt::format(R"("after_deregistration_ms":[{:.1f}],)",
                       fmt::join(r.after_deregistration, ","));
  }
  out += fmt::format(
      R"("unaffected_max_gap_ms":{:.1f},"deregistered_after_ms":{:.1f},"exited_after_ms":{:.1f},)"
      R"("acked":{},"errors":{})",
      r.unaffected_max_gap_ms, r.deregistered_after_ms, r.exited_after_ms, r.acked, r.errors);
  if (!r.error_kinds.empty()) {
    std::vector<std::string> kinds;
    for (const auto& [kind, n] : r.error_kinds) kinds.push_back(fmt::format(R"("{}":{})", kind, n));
    out += fmt::format(R"(,"error_kinds":{{{}}})", fmt::join(kinds, ","));
  }
  out += "}";
  return out;
}

std::string Summary(std::vector<double> v) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  const double median =
      v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return fmt::format("{:.0f} ({:.0f}-{:.0f}, n={})", median, v.front(), v.back(), v.size());
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") {
      o.runs = std::stoi(value());
    } else if (a == "--rate") {
      o.rate = std::stoi(value());
    } else if (a == "--partitions") {
      o.partitions = std::stoi(value());
    } else if (a == "--session-timeout-ms") {
      o.session_timeout_ms = std::stoi(value());
    } else if (a == "--retry-backoff-ms") {
      o.retry_backoff_ms = std::stoi(value());
    } else if (a == "--logs") {
      o.logs = value();
    } else if (a == "--broker") {
      o.broker_overrides.push_back(value());
    } else if (a == "--client") {
      const std::string kv = value();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "--client takes KEY=VALUE\n");
        return 2;
      }
      o.client[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (a == "--victim") {
      o.victim = value();
    } else if (a == "--scenario") {
      const std::string s = value();
      o.scenarios = s == "all" ? std::vector<std::string>{"kill", "term", "term-uncontrolled"}
                               : std::vector<std::string>{s};
    } else {
      std::fprintf(stderr,
                   "usage: failover_bench [--runs N] [--scenario kill|term|term-uncontrolled|all]"
                   " [--rate MSG_PER_S] [--partitions N] [--session-timeout-ms MS]"
                   " [--victim non-controller|controller] [--retry-backoff-ms MS]"
                   " [--broker KEY=VALUE]... [--client KEY=VALUE]... [--logs DIR]\n");
      return 2;
    }
  }
  testing::ZooKeeperEnsemble zk(3);
  if (Status s = zk.Start(); !s.ok()) {
    std::fprintf(stderr, "failover_bench: ZooKeeper: %s\n", s.ToString().c_str());
    return 1;
  }
  std::map<std::string, std::vector<RunResult>> results;
  for (const std::string& scenario : o.scenarios) {
    for (int run = 1; run <= o.runs; ++run) {
      std::optional<RunResult> r = RunOnce(zk, o, scenario, run);
      if (!r) return 1;
      std::printf("%s\n", Json(*r, o).c_str());
      std::fflush(stdout);
      results[scenario].push_back(std::move(*r));
    }
  }
  std::printf(
      "\nzookeeper.session.timeout.ms=%d, %d msg/s over %d partitions, victim: %s, "
      "producer retry.backoff.ms=%s; median (min-max, n = affected partitions over all "
      "runs), ms\n",
      o.session_timeout_ms, o.rate, o.partitions, o.victim.c_str(),
      o.retry_backoff_ms < 0 ? "100 (default)" : std::to_string(o.retry_backoff_ms).c_str());
  std::printf("%-18s %-34s %-34s %-22s %s\n", "scenario", "per affected partition",
              "after deregistration (kill)", "unaffected max gap", "errors");
  for (const std::string& scenario : o.scenarios) {
    std::vector<double> metric, after, unaffected;
    size_t errors = 0;
    for (const RunResult& r : results[scenario]) {
      metric.insert(metric.end(), r.metric.begin(), r.metric.end());
      after.insert(after.end(), r.after_deregistration.begin(), r.after_deregistration.end());
      unaffected.push_back(r.unaffected_max_gap_ms);
      errors += r.errors;
    }
    std::printf("%-18s %-34s %-34s %-22s %zu\n",
                (scenario + (scenario == "kill" ? " (recovered)" : " (max gap)")).c_str(),
                Summary(metric).c_str(), Summary(after).c_str(), Summary(unaffected).c_str(),
                errors);
  }
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) { return sluice::bench::Main(argc, argv); }
