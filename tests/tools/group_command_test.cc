// `sluice group list|describe|delete|reset-offsets` against a real broker,
// with a real librdkafka consumer in this process as the group's member.
// Also the pure reset rules (clamping, date-times) without a broker.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/broker_process.h"
#include "support/temp_dir.h"
#include "tools/group_reset.h"

extern char** environ;

namespace sluice::tools {
namespace {

using namespace std::chrono_literals;

// ---- Reset rules (no broker) ----

TEST(GroupResetPlanTest, ClampsToTheLog) {
  PartitionOffsets p{.log_start = 5, .log_end = 20, .committed = 10, .at_time = std::nullopt};
  EXPECT_EQ(5, PlanResetOffset({ResetMode::kEarliest, 0}, p).value());
  EXPECT_EQ(20, PlanResetOffset({ResetMode::kLatest, 0}, p).value());
  EXPECT_EQ(12, PlanResetOffset({ResetMode::kOffset, 12}, p).value());
  EXPECT_EQ(5, PlanResetOffset({ResetMode::kOffset, 1}, p).value());
  EXPECT_EQ(20, PlanResetOffset({ResetMode::kOffset, 99}, p).value());
  EXPECT_EQ(8, PlanResetOffset({ResetMode::kShiftBy, -2}, p).value());
  EXPECT_EQ(5, PlanResetOffset({ResetMode::kShiftBy, -100}, p).value());
  EXPECT_EQ(20, PlanResetOffset({ResetMode::kShiftBy, 100}, p).value());
  // No message at or after the time: the end of the log.
  EXPECT_EQ(20, PlanResetOffset({ResetMode::kDateTime, 0}, p).value());
  p.at_time = 7;
  EXPECT_EQ(7, PlanResetOffset({ResetMode::kDateTime, 0}, p).value());
  p.committed.reset();
  EXPECT_FALSE(PlanResetOffset({ResetMode::kShiftBy, 1}, p).ok());
}

TEST(GroupResetPlanTest, ParsesIso8601) {
  EXPECT_EQ(0, ParseDateTime("1970-01-01T00:00:00Z").value());
  EXPECT_EQ(1700000000123, ParseDateTime("2023-11-14T22:13:20.123Z").value());
  EXPECT_EQ(1700000000500, ParseDateTime("2023-11-14T22:13:20.5Z").value());
  EXPECT_EQ(1700000000000, ParseDateTime("2023-11-15T00:13:20+02:00").value());
  EXPECT_EQ(1700000000000, ParseDateTime("2023-11-14T21:13:20-0100").value());
  EXPECT_TRUE(ParseDateTime("2023-11-14T22:13:20").ok());  // Local time.
  for (const char* bad : {"", "2023-11-14", "2023-11-14 22:13:20", "2023-13-01T00:00:00Z",
                          "2023-11-14T22:13:20Q", "2023-11-14T22:13:20.Z", "yesterday"}) {
    EXPECT_FALSE(ParseDateTime(bad).ok()) << bad;
  }
}

// ---- The tool against a broker ----

struct ToolRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `sluice` is built next to sluice-broker.
std::string SluicePath() {
  return (std::filesystem::path(testing::BrokerProcess::BinaryPath()).parent_path() / "sluice")
      .string();
}

// Output goes to files, so a chatty tool can never block on a full pipe.
ToolRun RunTool(std::vector<std::string> args, const std::string& input = "") {
  testing::TempDir dir;
  const std::string in_path = (dir.path() / "in").string();
  std::ofstream(in_path, std::ios::binary) << input;
  const std::string out_path = (dir.path() / "out").string();
  const std::string err_path = (dir.path() / "err").string();
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string binary = SluicePath();
  args.insert(args.begin(), binary);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ToolRun r;
  pid_t pid = -1;
  if (posix_spawn(&pid, binary.c_str(), &files, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&files);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

std::string Show(const ToolRun& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The whitespace-separated cells of the table line whose first cell is `first`.
std::vector<std::string> RowOf(const std::string& table, const std::string& first) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream cells(line);
    std::vector<std::string> row{std::istream_iterator<std::string>(cells),
                                 std::istream_iterator<std::string>()};
    if (!row.empty() && row[0] == first) return row;
  }
  return {};
}

// The describe --json fragment for one partition's offsets.
std::string OffsetJson(int partition, int64_t committed, int64_t end) {
  return "\"partition\":" + std::to_string(partition) + ",\"committed\":" +
         std::to_string(committed) + ",\"log_end_offset\":" + std::to_string(end) +
         ",\"lag\":" + std::to_string(end - committed) + ",";
}

constexpr int kPartitions = 3;
constexpr int kPerPartition = 10;

class GroupCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::BrokerProcessOptions options;
    // The first member gets its partitions at once instead of after 3 s.
    options.overrides = {"group.initial.rebalance.delay.ms=0"};
    Status started = broker_.Start(options);
    ASSERT_TRUE(started.ok()) << started.ToString();
    bootstrap_ = broker_.host() + ":" + std::to_string(broker_.port());
  }

  ToolRun Sluice(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--bootstrap-server", bootstrap_, "--timeout-ms", "10000"});
    return RunTool(std::move(args), input);
  }

  std::unique_ptr<RdKafka::KafkaConsumer> MakeConsumer() {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"bootstrap.servers", bootstrap_},
             {"group.id", group_},
             {"client.id", "group-test-consumer"},
             {"enable.auto.commit", "false"},
             {"auto.offset.reset", "earliest"},
             {"session.timeout.ms", "6000"},
             {"heartbeat.interval.ms", "500"}}) {
      EXPECT_EQ(RdKafka::Conf::CONF_OK, conf->set(k, v, err)) << k << ": " << err;
    }
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    EXPECT_NE(nullptr, c) << err;
    if (c) {
      EXPECT_EQ(RdKafka::ERR_NO_ERROR, c->subscribe({topic_}));
    }
    return c;
  }

  // Polls until `want` messages arrived (or the deadline); counts per partition.
  std::vector<std::vector<int64_t>> Consume(RdKafka::KafkaConsumer& c, size_t want,
                                            std::chrono::milliseconds timeout) {
    std::vector<std::vector<int64_t>> offsets(kPartitions);
    size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got < want && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(c.consume(100));
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      offsets.at(static_cast<size_t>(m->partition())).push_back(m->offset());
      ++got;
    }
    return offsets;
  }

  // `describe --json`, asserted to succeed.
  std::string DescribeJson() {
    ToolRun r = Sluice({"group", "describe", group_, "--json"});
    EXPECT_EQ(0, r.code) << Show(r);
    return r.out;
  }

  // The group's state as `group list` shows it ("" if absent).
  std::string ListedState() {
    ToolRun r = Sluice({"group", "list"});
    EXPECT_EQ(0, r.code) << Show(r);
    std::vector<std::string> row = RowOf(r.out, group_);
    return row.size() >= 2 ? row[1] : "";
  }

  testing::BrokerProcess broker_;
  std::string bootstrap_;
  std::string topic_ = "orders";
  std::string group_ = "billing";
};

TEST_F(GroupCommandTest, ListDescribeResetDelete) {
  ToolRun r = Sluice({"topic", "create", topic_, "--partitions", std::to_string(kPartitions)});
  ASSERT_EQ(0, r.code) << Show(r);
  std::string lines;
  for (int i = 0; i < kPerPartition; ++i) lines += "m" + std::to_string(i) + "\n";
  for (int p = 0; p < kPartitions; ++p) {
    r = Sluice({"produce", topic_, "--partition", std::to_string(p)}, lines);
    ASSERT_EQ(0, r.code) << Show(r);
  }

  // A member that read everything and committed 4, 6 and 8.
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = MakeConsumer();
  ASSERT_NE(nullptr, consumer);
  auto read = Consume(*consumer, kPartitions * kPerPartition, 15s);
  for (int p = 0; p < kPartitions; ++p) ASSERT_EQ(size_t{kPerPartition}, read[p].size()) << p;
  std::vector<RdKafka::TopicPartition*> commit;
  for (int p = 0; p < kPartitions; ++p) {
    commit.push_back(RdKafka::TopicPartition::create(topic_, p, 4 + 2 * p));
  }
  RdKafka::ErrorCode committed = consumer->commitSync(commit);
  RdKafka::TopicPartition::destroy(commit);
  ASSERT_EQ(RdKafka::ERR_NO_ERROR, committed) << RdKafka::err2str(committed);

  // While it is a member.
  EXPECT_EQ("Stable", ListedState());
  r = Sluice({"group", "list", "--state", "Stable,PreparingRebalance"});
  EXPECT_EQ(0, r.code) << Show(r);
  EXPECT_EQ((std::vector<std::string>{group_, "Stable", "consumer"}), RowOf(r.out, group_)) << r.out;
  r = Sluice({"group", "list", "--state", "empty"});
  EXPECT_EQ(0, r.code) << Show(r);
  EXPECT_TRUE(RowOf(r.out, group_).empty()) << r.out;

  std::string json = DescribeJson();
  EXPECT_TRUE(Contains(json, "\"group\":\"billing\",\"state\":\"Stable\",\"type\":\"consumer\",")) << json;
  EXPECT_TRUE(Contains(json, "\"client_id\":\"group-test-consumer\"")) << json;
  EXPECT_TRUE(Contains(json, "\"instance_id\":null,\"partitions\":[{\"topic\":\"orders\",\"partition\":0},"
                             "{\"topic\":\"orders\",\"partition\":1},{\"topic\":\"orders\",\"partition\":2}]"))
      << json;
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_TRUE(Contains(json, OffsetJson(p, 4 + 2 * p, kPerPartition))) << json;
  }
  EXPECT_FALSE(Contains(json, "\"owner\":null")) << json;

  r = Sluice({"group", "describe", group_});
  EXPECT_EQ(0, r.code) << Show(r);
  EXPECT_TRUE(Contains(r.out, "State:        Stable")) << r.out;
  std::vector<std::string> row = RowOf(r.out, topic_);
  ASSERT_LE(7u, row.size()) << r.out;
  EXPECT_EQ("0", row[1]);
  EXPECT_EQ("4", row[2]);   // committed
  EXPECT_EQ("10", row[3]);  // log end
  EXPECT_EQ("6", row[4]);   // lag
  EXPECT_EQ("group-test-consumer", row[6]);

  r = Sluice({"group", "reset-offsets", group_, "--topic", topic_, "--to-earliest", "--execute"});
  EXPECT_EQ(1, r.code) << Show(r);
  EXPECT_TRUE(Contains(r.err, "while it is active (state Stable")) << r.err;
  r = Sluice({"group", "delete", group_});
  EXPECT_EQ(1, r.code) << Show(r);
  EXPECT_TRUE(Contains(r.err, "NON_EMPTY_GROUP")) << r.err;

  // After it left.
  consumer->close();
  consumer.reset();
  EXPECT_EQ("Empty", ListedState());
  json = DescribeJson();
  EXPECT_TRUE(Contains(json, "\"state\":\"Empty\"")) << json;
  EXPECT_TRUE(Contains(json, "\"members\":[]")) << json;
  EXPECT_TRUE(Contains(json, OffsetJson(0, 4, kPerPartition) + "\"owner\":null")) << json;

  // Without --execute only the plan.
  r = Sluice({"group", "reset-offsets", group_, "--topic", topic_, "--to-earliest"});
  EXPECT_EQ(0, r.code) << Show(r);
  EXPECT_EQ((std::vector<std::string>{group_, topic_, "0", "4", "0"}), RowOf(r.out, group_))
      << r.out;
  EXPECT_TRUE(Contains(r.err, "--execute")) << r.err;
  EXPECT_TRUE(Contains(DescribeJson(), OffsetJson(1, 6, kPerPartition))) << "dry run changed it";

  auto reset = [&](std::vector<std::string> how) {
    std::vector<std::string> args = {"group", "reset-offsets", group_, "--topic", topic_};
    args.insert(args.end(), how.begin(), how.end());
    args.push_back("--execute");
    ToolRun run = Sluice(args);
    EXPECT_EQ(0, run.code) << Show(run);
    return DescribeJson();
  };
  json = reset({"--to-earliest"});
  for (int p = 0; p < kPartitions; ++p) EXPECT_TRUE(Contains(json, OffsetJson(p, 0, 10))) << json;
  json = reset({"--to-offset", "7"});
  for (int p = 0; p < kPartitions; ++p) EXPECT_TRUE(Contains(json, OffsetJson(p, 7, 10))) << json;
  json = reset({"--shift-by", "-2"});
  for (int p = 0; p < kPartitions; ++p) EXPECT_TRUE(Contains(json, OffsetJson(p, 5, 10))) << json;
  json = reset({"--to-offset", "100", "--partition", "2"});  // Clamped to the end.
  EXPECT_TRUE(Contains(json, OffsetJson(2, 10, 10))) << json;
  EXPECT_TRUE(Contains(json, OffsetJson(1, 5, 10))) << json;
  json = reset({"--to-datetime", "2000-01-01T00:00:00Z", "--partition", "1"});
  EXPECT_TRUE(Contains(json, OffsetJson(1, 0, 10))) << json;
  json = reset({"--to-datetime", "2999-01-01T00:00:00.000+01:00", "--partition", "0"});
  EXPECT_TRUE(Contains(json, OffsetJson(0, 10, 10))) << json;
  json = reset({"--to-latest", "--partition", "1"});
  EXPECT_TRUE(Contains(json, OffsetJson(1, 10, 10))) << json;
  json = reset({"--shift-by=-3", "--partition", "1"});
  EXPECT_TRUE(Contains(json, OffsetJson(1, 7, 10))) << json;

  // A new member starts where the reset put the group: 7-9 of partition 1 only.
  consumer = MakeConsumer();
  ASSERT_NE(nullptr, consumer);
  read = Consume(*consumer, 3, 10s);
  EXPECT_EQ((std::vector<std::vector<int64_t>>{{}, {7, 8, 9}, {}}), read);
  read = Consume(*consumer, 1, 1s);  // And nothing more comes.
  EXPECT_EQ((std::vector<std::vector<int64_t>>{{}, {}, {}}), read);
  consumer->close();
  consumer.reset();

  r = Sluice({"group", "delete", group_});
  EXPECT_EQ(0, r.code) << Show(r);
  EXPECT_EQ("Deleted group 'billing'.\n", r.out);
  EXPECT_EQ("", ListedState());
  r = Sluice({"group", "delete", group_});
  EXPECT_EQ(1, r.code) << Show(r);
  EXPECT_TRUE(Contains(r.err, "group 'billing': GROUP_ID_NOT_FOUND")) << r.err;
  r = Sluice({"group", "describe", group_});
  EXPECT_EQ(1, r.code) << Show(r);
  EXPECT_TRUE(Contains(r.err, "GROUP_ID_NOT_FOUND")) << r.err;
}

TEST_F(GroupCommandTest, UsageErrorsExitTwo) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"group", "reset-offsets", "g", "--topic", "t"},
           {"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest"},
           {"group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "yesterday"},
           {"group", "reset-offsets", "g", "--to-earliest"},
           {"group", "list", "--state", "Sleepy"},
           {"group", "describe"},
           {"group"}}) {
    ToolRun r = Sluice(args);
    EXPECT_EQ(2, r.code) << args[1] << ": " << Show(r);
  }
  ToolRun r = Sluice({"group", "reset-offsets", "g", "--topic", "missing", "--to-earliest"});
  EXPECT_EQ(1, r.code) << Show(r);
  EXPECT_TRUE(Contains(r.err, "UNKNOWN_TOPIC_OR_PART")) << r.err;
}

}  // namespace
}  // namespace sluice::tools
