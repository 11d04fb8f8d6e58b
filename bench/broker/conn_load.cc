// conn_load: N producer connections to one broker from one thread, for
// bench/scaling.sh. librdkafka opens one connection per producer instance and
// each instance brings its own threads, so 1 000 of them would measure the
// client's scheduling more than the broker; this speaks the Kafka protocol
// directly instead: every connection sends Produce requests (one record
// batch of --records x --size bytes to partition connection % --partitions),
// one in flight, for --duration seconds, driven by one epoll loop. With
// --spread every request carries one batch of --records for each of the
// --partitions partitions instead, as a producer with keyed messages sends
// them: the shape in which the partition count reaches the broker.
// Prints one JSON object: requests and messages per second, request latency
// (send to response) percentiles, error count, and the broker's RSS and
// thread count at the end when --rss-pid is given.
//
//   conn_load --bootstrap HOST:PORT --topic T [--partitions P] [--connections N]
//             [--acks 1|all] [--records R] [--size B] [--duration S] [--spread]
//             [--rss-pid PID]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/endian.h"
#include "model/record_batch_builder.h"
#include "protocol/generated/produce.h"
#include "protocol/header.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace sluice;

constexpr int16_t kProduceVersion = 7;  // Record batches v2, not yet flexible.

struct Options {
  std::string host = "127.0.0.1";
  int port = 9092;
  std::string topic;
  int partitions = 1;
  int connections = 1;
  int16_t acks = 1;
  int records = 10;
  int size = 100;
  double duration_s = 10;
  int rss_pid = 0;
  bool spread = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "conn_load: %s\n", what.c_str());
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--spread") {
      o.spread = true;
      continue;
    }
    if (i + 1 >= argc) Die("missing value for " + a);
    std::string v = argv[++i];
    if (a == "--bootstrap") {
      const size_t colon = v.rfind(':');
      if (colon == std::string::npos) Die("--bootstrap wants HOST:PORT");
      o.host = v.substr(0, colon);
      o.port = std::atoi(v.c_str() + colon + 1);
    } else if (a == "--topic") {
      o.topic = v;
    } else if (a == "--partitions") {
      o.partitions = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--connections") {
      o.connections = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--acks") {
      o.acks = v == "all" || v == "-1" ? int16_t{-1} : static_cast<int16_t>(std::atoi(v.c_str()));
    } else if (a == "--records") {
      o.records = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--size") {
      o.size = std::max(0, std::atoi(v.c_str()));
    } else if (a == "--duration") {
      o.duration_s = std::atof(v.c_str());
    } else if (a == "--rss-pid") {
      o.rss_pid = std::atoi(v.c_str());
    } else {
      Die("unknown argument " + a);
    }
  }
  if (o.topic.empty()) Die("--topic is required");
  if (o.acks != 1 && o.acks != -1) Die("--acks must be 1 or all");
  return o;
}

// One record batch of o.records random upper-case values.
std::vector<uint8_t> Batch(const Options& o, std::mt19937& rng) {
  model::RecordBatchBuilder builder;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string value(static_cast<size_t>(o.size), 'A');
  for (int r = 0; r < o.records; ++r) {
    for (char& c : value) c = static_cast<char>('A' + rng() % 26);
    builder.Add(now, std::nullopt, model::AsBytes(value));
  }
  auto batch = builder.Build();
  if (!batch.ok()) Die("building a batch: " + batch.status().ToString());
  return std::move(batch).value();
}

// One framed Produce request (size prefix included): a batch for
// `partition`, or with --spread one for every partition.
std::vector<uint8_t> ProduceFrame(const Options& o, int32_t partition, std::mt19937& rng) {
  protocol::RequestHeader h;
  h.request_api_key = protocol::ProduceRequest::kApiKey;
  h.request_api_version = kProduceVersion;
  h.correlation_id = partition;
  h.client_id = "conn_load";
  protocol::ProduceRequest request;
  request.acks = o.acks;
  request.timeout_ms = 30000;
  auto& topic = request.topic_data.emplace_back();
  topic.name = o.topic;
  for (int32_t i = 0; i < (o.spread ? o.partitions : 1); ++i) {
    auto& p = topic.partition_data.emplace_back();
    p.index = o.spread ? i : partition;
    p.records = protocol::Records::Owned(Batch(o, rng));
  }
  std::vector<uint8_t> body = protocol::EncodeRequest(h, request);
  std::vector<uint8_t> frame(4 + body.size());
  StoreBigEndian(frame.data(), static_cast<int32_t>(body.size()));
  std::memcpy(frame.data() + 4, body.data(), body.size());
  return frame;
}

// True when every partition in the response has error code 0.
bool ResponseOk(std::span<const uint8_t> frame) {
  protocol::Reader in(frame);
  protocol::ResponseHeader rh;
  protocol::ProduceResponse response;
  if (!rh.Decode(in, protocol::ResponseHeaderVersion(protocol::ProduceRequest::kApiKey,
                                                     kProduceVersion)).ok() ||
      !response.Decode(in, kProduceVersion).ok()) {
    return false;
  }
  for (const auto& t : response.responses) {
    for (const auto& p : t.partition_responses) {
      if (p.error_code != 0) return false;
    }
  }
  return !response.responses.empty();
}

struct Conn {
  int fd = -1;
  std::vector<uint8_t> request;
  size_t sent = 0;
  std::vector<uint8_t> in;  // size prefix, then the response
  size_t got = 0;
  Clock::time_point started;
};

int Connect(const Options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) Die("bad host " + o.host);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Die(std::string("connect: ") + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Writes what the socket takes; true when the whole request is out.
bool Pump(Conn& c) {
  while (c.sent < c.request.size()) {
    ssize_t n = ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n <= 0) Die(std::string("send: ") + std::strerror(errno));
    c.sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads what has arrived; true when a whole response frame is in c.in.
bool Drain(Conn& c) {
  while (true) {
    const size_t want = c.got < 4 ? 4 : 4 + LoadBigEndian<int32_t>(c.in.data());
    if (c.got == want && c.got >= 4 && want > 4) return true;
    if (c.in.size() < want) c.in.resize(want);
    ssize_t n = ::recv(c.fd, c.in.data() + c.got, want - c.got, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n == 0) Die("the broker closed a connection");
    if (n < 0) Die(std::string("recv: ") + std::strerror(errno));
    c.got += static_cast<size_t>(n);
  }
}

double Percentile(std::vector<uint32_t>& us, double q) {
  if (us.empty()) return 0;
  size_t i = std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())));
  std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(i), us.end());
  return us[i] / 1000.0;
}

// VmRSS (MiB) and Threads of a process, from /proc.
std::pair<double, int> ProcessStatus(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  double rss_mib = 0;
  int threads = 0;
  while (f >> key) {
    if (key == "VmRSS:") {
      f >> rss_mib;
      rss_mib /= 1024;
    } else if (key == "Threads:") {
      f >> threads;
    }
  }
  return {rss_mib, threads};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::mt19937 rng(42);
  std::vector<Conn> conns(static_cast<size_t>(o.connections));
  int ep = ::epoll_create1(0);
  if (ep < 0) Die(std::string("epoll_create1: ") + std::strerror(errno));
  for (size_t i = 0; i < conns.size(); ++i) {
    Conn& c = conns[i];
    c.fd = Connect(o);
    c.request = ProduceFrame(o, static_cast<int32_t>(i % static_cast<size_t>(o.partitions)), rng);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) Die("epoll_ctl");
  }

  std::vector<uint32_t> latency_us;
  latency_us.reserve(1 << 20);
  uint64_t errors = 0;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  auto send_next = [&](Conn& c, size_t i) {
    c.sent = 0;
    c.got = 0;
    c.started = Clock::now();
    const bool out = Pump(c);
    epoll_event ev{};
    ev.events = out ? EPOLLIN : (EPOLLIN | EPOLLOUT);
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  };
  for (size_t i = 0; i < conns.size(); ++i) send_next(conns[i], i);

  size_t outstanding = conns.size();
  bool stopping = false;
  std::vector<epoll_event> events(1024);
  while (outstanding > 0) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    const Clock::time_point now = Clock::now();
    if (now >= deadline) stopping = true;
    for (int e = 0; e < n; ++e) {
      const size_t i = events[static_cast<size_t>(e)].data.u64;
      Conn& c = conns[i];
      if (c.sent < c.request.size()) {
        if (Pump(c)) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = i;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
        continue;
      }
      if (!Drain(c)) continue;
      const Clock::time_point done = Clock::now();
      latency_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(done - c.started).count()));
      if (!ResponseOk(std::span<const uint8_t>(c.in.data() + 4, c.got - 4))) ++errors;
      if (stopping) {
        --outstanding;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      } else {
        send_next(c, i);
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const auto [rss_mib, threads] = o.rss_pid > 0 ? ProcessStatus(o.rss_pid) : std::pair<double, int>{0, 0};
  for (Conn& c : conns) ::close(c.fd);
  ::close(ep);

  const double requests = static_cast<double>(latency_us.size());
  const double msgs = requests * o.records * (o.spread ? o.partitions : 1);
  std::printf(
      "{\"tool\":\"conn_load\",\"connections\":%d,\"partitions\":%d,\"spread\":%s,"
      "\"acks\":\"%s\",\"records_per_batch\":%d,\"size\":%d,\"requests\":%.0f,"
      "\"errors\":%llu,\"elapsed_s\":%.3f,\"requests_per_s\":%.1f,\"msgs_per_s\":%.1f,"
      "\"mb_per_s\":%.2f,",
      o.connections, o.partitions, o.spread ? "true" : "false", o.acks == 1 ? "1" : "all",
      o.records, o.size, requests,
      static_cast<unsigned long long>(errors), elapsed, requests / elapsed, msgs / elapsed,
      msgs * o.size / elapsed / 1e6);
  const double p50 = Percentile(latency_us, 0.50), p99 = Percentile(latency_us, 0.99),
               p999 = Percentile(latency_us, 0.999), max = Percentile(latency_us, 1.0);
  std::printf("\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
              "\"broker_rss_mib\":%.1f,\"broker_threads\":%d}\n",
              p50, p99, p999, max, rss_mib, threads);
  return errors > 0 ? 1 : 0;
}
