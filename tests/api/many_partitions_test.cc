// More partitions than the process may have open files: one CreateTopics of
// 100 000 partitions (the machine's hard RLIMIT_NOFILE is far below), a few
// of them written to, then a SIGTERM, a restart, a kill -9 and a restart:
// the broker starts every time, within its file cache's descriptors, and
// every acknowledged message is there. And a request for more partitions
// than the broker may hold is refused whole, with POLICY_VIOLATION.
#include <dirent.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "api/admin_client.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/metadata.h"
#include "support/broker_process.h"
#include "support/kafka_client.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Descriptors process `pid` has open.
size_t OpenDescriptors(pid_t pid) {
  size_t n = 0;
  const std::string dir = fmt::format("/proc/{}/fd", pid);
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
  }
  return n;
}

// One CreateTopics request for `topic`: (error code, message).
std::pair<int16_t, std::string> CreateTopic(uint16_t port, const std::string& topic,
                                            int32_t partitions, bool validate_only = false) {
  protocol::CreateTopicsRequest req;
  req.timeout_ms = 600000;
  req.validate_only = validate_only;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  auto resp = RoundTrip<protocol::CreateTopicsResponse>(port, req, 5);
  if (resp.topics.size() != 1) return {-1000, "no topic result"};
  return {resp.topics[0].error_code, resp.topics[0].error_message.value_or("")};
}

// The partition count Metadata reports for `topic`; -1 if unknown.
int PartitionCount(uint16_t port, const std::string& topic) {
  protocol::MetadataRequest req;
  auto& t = req.topics->emplace_back();
  t.name = topic;
  req.allow_auto_topic_creation = false;
  auto resp = RoundTrip<protocol::MetadataResponse>(port, req, 9);
  if (resp.topics.size() != 1 || resp.topics[0].error_code != 0) return -1;
  return static_cast<int>(resp.topics[0].partitions.size());
}

// Partition directories of `topic` in `dir`.
size_t PartitionDirs(const std::filesystem::path& dir, const std::string& topic) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.starts_with(topic + "-")) ++n;
  }
  return n;
}

// 100 000 as the issue asks, run in the plain and ASan builds. Under
// ThreadSanitizer the same scenario runs with 20 000 (still ten times the
// descriptors the broker may hold): TSan makes the 100 000-partition run
// take five and a half minutes, the longest test of the suite, for no
// interleaving the smaller topic does not also reach.
#ifdef SLUICE_TSAN
constexpr int32_t kPartitions = 20000;
#else
constexpr int32_t kPartitions = 100000;
#endif
constexpr int kMaxOpenFiles = 2000;
// Connections, index and checkpoint files opened for a moment, the log
// dirs' locks, the metrics endpoint, spdlog, ...
constexpr size_t kHeadroom = 200;

BrokerProcessOptions Options(const std::filesystem::path& dir) {
  BrokerProcessOptions o;
  o.log_dir = dir;
  o.ready_timeout = 600s;
  o.overrides = {"sluice.log.max.open.files=" + std::to_string(kMaxOpenFiles),
                 "auto.create.topics.enable=false"};
  return o;
}

// Produces `n` messages to each of `partitions` with acks=all; returns what
// was acknowledged, by partition.
std::map<int32_t, std::vector<std::string>> ProduceAcked(KafkaClient& client,
                                                         const std::string& topic,
                                                         const std::vector<int32_t>& partitions,
                                                         int n, const std::string& tag) {
  std::map<int32_t, std::vector<std::string>> acked;
  auto producer = client.MakeProducer({{"acks", "all"}, {"linger.ms", "5"}});
  for (int32_t p : partitions) {
    for (int i = 0; i < n; ++i) {
      const std::string value = fmt::format("{}-p{}-{}", tag, p, i);
      DeliveryResult r = ProduceSync(*producer, topic, p, std::nullopt, value);
      EXPECT_EQ(RdKafka::ERR_NO_ERROR, r.err) << value;
      if (r.err == RdKafka::ERR_NO_ERROR) acked[p].push_back(value);
    }
  }
  return acked;
}

void ExpectAllThere(KafkaClient& client, const std::string& topic,
                    const std::map<int32_t, std::vector<std::string>>& acked) {
  for (const auto& [p, values] : acked) {
    std::vector<ConsumedMessage> got = client.ConsumePartitionToEnd(topic, p, 120s);
    std::vector<std::string> seen;
    for (const ConsumedMessage& m : got) seen.push_back(m.value.value_or(""));
    EXPECT_EQ(values, seen) << "partition " << p;
  }
}

TEST(ManyPartitionsTest, HundredThousandPartitionsSurviveRestartsAndKills) {
  TempDir data;
  const std::string topic = "wide";
  BrokerProcess broker;
  auto started = Clock::now();
  ASSERT_TRUE(broker.Start(Options(data.path())).ok()) << broker.output();
  std::fprintf(stderr, "[ figures ] first start: %.1f s\n", SecondsSince(started));

  auto t0 = Clock::now();
  auto created = CreateTopic(broker.port(), topic, kPartitions);
  ASSERT_EQ(0, created.first) << created.second;
  std::fprintf(stderr, "[ figures ] CreateTopics of %d partitions: %.1f s\n", kPartitions,
              SecondsSince(t0));
  EXPECT_EQ(kPartitions, PartitionCount(broker.port(), topic));
  size_t fds = OpenDescriptors(broker.pid());
  std::fprintf(stderr, "[ figures ] open descriptors after the create: %zu\n", fds);
  EXPECT_LE(fds, kMaxOpenFiles + kHeadroom);

  // Each start listens on a new port: a client per start.
  auto client_of = [&broker] {
    return KafkaClient(fmt::format("{}:{}", broker.host(), broker.port()));
  };
  KafkaClient client = client_of();
  const std::vector<int32_t> written = {0, 1, 4242, kPartitions / 2, kPartitions - 1};
  std::map<int32_t, std::vector<std::string>> acked =
      ProduceAcked(client, topic, written, 5, "first");
  ExpectAllThere(client, topic, acked);

  // A clean stop and start: no scan of the segments.
  t0 = Clock::now();
  ASSERT_EQ(0, broker.Stop(600s).value()) << broker.output();
  std::fprintf(stderr, "[ figures ] clean stop: %.1f s\n", SecondsSince(t0));
  t0 = Clock::now();
  ASSERT_TRUE(broker.Start(Options(data.path())).ok()) << broker.output();
  std::fprintf(stderr, "[ figures ] start after a clean stop: %.1f s\n", SecondsSince(t0));
  client = client_of();
  fds = OpenDescriptors(broker.pid());
  std::fprintf(stderr, "[ figures ] open descriptors after the start: %zu\n", fds);
  EXPECT_LE(fds, kMaxOpenFiles + kHeadroom);
  EXPECT_EQ(kPartitions, PartitionCount(broker.port(), topic));
  ExpectAllThere(client, topic, acked);

  // Acknowledged, then killed: every acknowledged message survives.
  for (auto& [p, values] : ProduceAcked(client, topic, {1, kPartitions - 3}, 5, "second")) {
    acked[p].insert(acked[p].end(), values.begin(), values.end());
  }
  broker.Kill();
  t0 = Clock::now();
  ASSERT_TRUE(broker.Start(Options(data.path())).ok()) << broker.output();
  std::fprintf(stderr, "[ figures ] start after kill -9: %.1f s\n", SecondsSince(t0));
  client = client_of();
  EXPECT_LE(OpenDescriptors(broker.pid()), kMaxOpenFiles + kHeadroom);
  EXPECT_EQ(kPartitions, PartitionCount(broker.port(), topic));
  ExpectAllThere(client, topic, acked);
  ASSERT_EQ(0, broker.Stop(600s).value()) << broker.output();
}

TEST(ManyPartitionsTest, MorePartitionsThanTheBrokerHoldsAreRefusedWhole) {
  TempDir data;
  BrokerProcess broker;
  BrokerProcessOptions options;
  options.log_dir = data.path();
  options.overrides = {"sluice.broker.max.partitions=100", "auto.create.topics.enable=false"};
  ASSERT_TRUE(broker.Start(options).ok()) << broker.output();
  const uint16_t port = broker.port();
  ASSERT_EQ(0, CreateTopic(port, "sixty", 60).first);

  // 60 + 50 > 100: refused, with why, and nothing made; validate_only too.
  for (bool validate_only : {true, false}) {
    auto refused = CreateTopic(port, "fifty", 50, validate_only);
    EXPECT_EQ(RD_KAFKA_RESP_ERR_POLICY_VIOLATION, refused.first) << refused.second;
    EXPECT_NE(std::string::npos, refused.second.find("sluice.broker.max.partitions"))
        << refused.second;
  }
  EXPECT_EQ(-1, PartitionCount(port, "fifty"));
  EXPECT_EQ(0u, PartitionDirs(broker.log_dir(), "fifty"));

  Admin admin(fmt::format("{}:{}", broker.host(), port));
  auto grown = admin.CreatePartitions("sixty", 120);
  EXPECT_EQ(RD_KAFKA_RESP_ERR_POLICY_VIOLATION, grown.first) << grown.second;
  EXPECT_NE(std::string::npos, grown.second.find("holds 60 now")) << grown.second;
  EXPECT_EQ(60, PartitionCount(port, "sixty"));
  EXPECT_EQ(60u, PartitionDirs(broker.log_dir(), "sixty"));

  // Up to the limit is fine, and still so after a restart.
  EXPECT_EQ(0, CreateTopic(port, "forty", 40).first);
  ASSERT_EQ(0, broker.Stop().value()) << broker.output();
  ASSERT_TRUE(broker.Start(options).ok()) << broker.output();
  EXPECT_EQ(60, PartitionCount(broker.port(), "sixty"));
  EXPECT_EQ(40, PartitionCount(broker.port(), "forty"));
  EXPECT_EQ(RD_KAFKA_RESP_ERR_POLICY_VIOLATION, CreateTopic(broker.port(), "one", 1).first);
  ASSERT_EQ(0, broker.Stop().value()) << broker.output();
}

}  // namespace
}  // namespace sluice::testing
