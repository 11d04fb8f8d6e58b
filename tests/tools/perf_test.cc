// End-to-end test of `sluice perf`: runs the real tool against a sluice-broker
// started by the test and checks the JSON results (fields present, counts
// right). A few thousand messages, so it takes seconds.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/broker_process.h"
#include "support/temp_dir.h"

extern char** environ;

namespace sluice::tools {
namespace {

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `sluice args...`; output goes to files so no pipe can block the tool.
ToolResult RunTool(const std::vector<std::string>& args) {
  testing::TempDir dir;
  std::filesystem::path out = dir.path() / "stdout", err = dir.path() / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> storage = {SLUICE_CLI_PATH};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  ToolResult r;
  pid_t pid = 0;
  if (posix_spawn(&pid, SLUICE_CLI_PATH, &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

std::string Describe(const ToolResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

// The JSON text of `"key":<value>` in a flat or nested object (first match);
// the tool prints numbers plainly, so a pattern is enough here.
std::optional<std::string> Field(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex re("\"" + key + "\":(\"[^\"]*\"|\\{[^}]*\\}|[-0-9.]+)");
  if (!std::regex_search(json, m, re)) return std::nullopt;
  return m[1].str();
}

double Number(const std::string& json, const std::string& key) {
  std::optional<std::string> v = Field(json, key);
  return v ? std::stod(*v) : -1;
}

// The whole of stdout must be exactly one JSON object on one line.
void ExpectOneObject(const ToolResult& r) {
  ASSERT_FALSE(r.out.empty()) << Describe(r);
  EXPECT_EQ('{', r.out.front()) << Describe(r);
  EXPECT_EQ("}\n", r.out.substr(r.out.size() - 2)) << Describe(r);
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << Describe(r);
}

void ExpectLatencyFields(const std::string& object) {
  for (const char* k : {"p50", "p99", "p999", "max"}) {
    EXPECT_GE(Number(object, k), 0) << k << " in " << object;
  }
}

class PerfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new sluice::testing::BrokerProcess();
    // No initial rebalance delay: a group test then joins in milliseconds.
    Status started = broker_->Start({.overrides = {"sluice.metrics.listener=127.0.0.1:0",
                                                   "group.initial.rebalance.delay.ms=0"}});
    if (started.ok()) {
      bootstrap_ = new std::string(broker_->host() + ":" + std::to_string(broker_->port()));
    } else {
      start_error_ = new std::string(started.ToString());
    }
  }
  static void TearDownTestSuite() {
    delete broker_;
    delete bootstrap_;
    delete start_error_;
    broker_ = nullptr;
    bootstrap_ = start_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(nullptr, start_error_) << *start_error_;
  }

  ToolResult Perf(std::vector<std::string> args) {
    args.insert(args.begin(), {"--bootstrap", *bootstrap_, "perf"});
    return RunTool(args);
  }

  static sluice::testing::BrokerProcess* broker_;
  static std::string* bootstrap_;
  static std::string* start_error_;
};

sluice::testing::BrokerProcess* PerfTest::broker_ = nullptr;
std::string* PerfTest::bootstrap_ = nullptr;
std::string* PerfTest::start_error_ = nullptr;

TEST_F(PerfTest, ProduceThenConsumeEverything) {
  ToolResult p = Perf({"produce", "perf-a", "--messages", "3000", "--size", "200",
                       "--partitions", "3", "--acks", "all", "--linger-ms", "1", "--json"});
  ASSERT_EQ(0, p.exit_code) << Describe(p);
  ExpectOneObject(p);
  EXPECT_EQ("\"sluice perf produce\"", Field(p.out, "tool").value_or(""));
  EXPECT_EQ(3000, Number(p.out, "messages"));
  EXPECT_EQ(0, Number(p.out, "failed"));
  EXPECT_EQ(600000, Number(p.out, "bytes"));
  EXPECT_EQ(3, Number(p.out, "partitions"));
  EXPECT_GT(Number(p.out, "msgs_per_s"), 0);
  EXPECT_GT(Number(p.out, "mb_per_s"), 0);
  std::optional<std::string> latency = Field(p.out, "latency_ms");
  ASSERT_TRUE(latency) << p.out;
  ExpectLatencyFields(*latency);
  EXPECT_EQ(3000, Number(*latency, "count"));

  ToolResult c = Perf({"consume", "perf-a", "--assign", "--json"});
  ASSERT_EQ(0, c.exit_code) << Describe(c);
  ExpectOneObject(c);
  EXPECT_EQ("\"assign\"", Field(c.out, "mode").value_or(""));
  EXPECT_EQ(3000, Number(c.out, "messages"));
  EXPECT_EQ(600000, Number(c.out, "bytes"));
  EXPECT_GT(Number(c.out, "msgs_per_s"), 0);

  // A count below what is there stops at the count.
  c = Perf({"consume", "perf-a", "--assign", "--messages", "100", "--json", "-q"});
  ASSERT_EQ(0, c.exit_code) << Describe(c);
  EXPECT_EQ(100, Number(c.out, "messages"));
}

TEST_F(PerfTest, PacedProduceWithCompressionAndTable) {
  ToolResult p = Perf({"produce", "perf-b", "--messages", "400", "--rate", "2000",
                       "--compression", "lz4", "--acks", "1"});
  ASSERT_EQ(0, p.exit_code) << Describe(p);
  EXPECT_TRUE(std::regex_search(p.out, std::regex("\nmessages +400\n"))) << p.out;
  EXPECT_NE(std::string::npos, p.out.find("throughput")) << p.out;
  EXPECT_NE(std::string::npos, p.out.find("p99.9")) << p.out;
}

TEST_F(PerfTest, EndToEndCountsEveryMessage) {
  ToolResult e = Perf({"e2e", "perf-e", "--messages", "1000", "--rate", "2000", "--acks", "all",
                       "--linger-ms", "0", "--fetch-wait-max-ms", "5", "--partitions", "2",
                       "--json", "-q"});
  ASSERT_EQ(0, e.exit_code) << Describe(e);
  ExpectOneObject(e);
  EXPECT_EQ(1000, Number(e.out, "messages"));
  EXPECT_EQ(1000, Number(e.out, "consumed"));
  std::optional<std::string> latency = Field(e.out, "latency_ms");
  ASSERT_TRUE(latency) << e.out;
  ExpectLatencyFields(*latency);
  EXPECT_EQ(1000, Number(*latency, "count"));
  EXPECT_GT(Number(*latency, "max"), 0);
}

TEST_F(PerfTest, GroupConsumerReadsEverythingOnceAndCommits) {
  ToolResult p = Perf({"produce", "perf-g", "--messages", "1000", "--partitions", "2", "--json",
                       "-q"});
  ASSERT_EQ(0, p.exit_code) << Describe(p);
  ToolResult c = Perf({"consume", "perf-g", "--group", "perf-g-group", "--idle-timeout-ms",
                       "5000", "--json", "-q"});
  ASSERT_EQ(0, c.exit_code) << Describe(c);
  EXPECT_EQ("\"group\"", Field(c.out, "mode").value_or(""));
  EXPECT_EQ(1000, Number(c.out, "messages"));
  EXPECT_GE(Number(c.out, "elapsed_s"), 0);
  // The group committed its offsets on close: a second run finds nothing new.
  c = Perf({"consume", "perf-g", "--group", "perf-g-group", "--messages", "1",
            "--idle-timeout-ms", "1500", "--json", "-q"});
  EXPECT_EQ(1, c.exit_code) << Describe(c);
  EXPECT_EQ(0, Number(c.out, "messages")) << Describe(c);
}

TEST_F(PerfTest, ConsumingAMissingTopicFails) {
  ToolResult c = Perf({"consume", "perf-missing", "--assign", "--json", "-q"});
  EXPECT_EQ(1, c.exit_code) << Describe(c);
  EXPECT_NE(std::string::npos, c.err.find("UNKNOWN_TOPIC_OR_PART")) << Describe(c);
}

}  // namespace
}  // namespace sluice::tools
