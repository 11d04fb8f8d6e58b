// End-to-end tests of the `sluice` binary against a running broker: each test
// runs the tool as a user would and checks its output and exit code.
//
// The broker is started through tests/support/broker_process.h. Setting
// SLUICE_TEST_BOOTSTRAP=HOST:PORT points the tests at an existing broker
// instead; SLUICE_TEST_NO_ADMIN=1 skips the tests that need admin APIs (for
// librdkafka's mock cluster, which has none and auto-creates topics).
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#if __has_include("support/broker_process.h")
#include "support/broker_process.h"
#define SLUICE_HAVE_BROKER_PROCESS 1
#endif

extern char** environ;

namespace sluice::tools {
namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `sluice args...` with `input` on stdin; stdout and stderr go to files
// so that neither pipe can fill up and block the tool.
CliResult RunSluice(const std::vector<std::string>& args, const std::string& input = "") {
  testing::TempDir dir;
  std::filesystem::path in = dir.path() / "stdin", out = dir.path() / "stdout",
                        err = dir.path() / "stderr";
  std::ofstream(in, std::ios::binary) << input;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_storage = {SLUICE_CLI_PATH};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  CliResult r;
  if (posix_spawn(&pid, SLUICE_CLI_PATH, &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

// A loopback port nothing listens on (bound, then released).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string UniqueTopic(const std::string& base) {
  static int counter = 0;
  return "cli-" + base + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class SluiceCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const char* external = std::getenv("SLUICE_TEST_BOOTSTRAP")) {
      bootstrap_ = new std::string(external);
      return;
    }
#ifdef SLUICE_HAVE_BROKER_PROCESS
    broker_ = new sluice::testing::BrokerProcess();
    Status started = broker_->Start();
    if (!started.ok()) {
      start_error_ = new std::string(started.ToString());
      return;
    }
    bootstrap_ = new std::string(broker_->host() + ":" + std::to_string(broker_->port()));
#endif
  }
  static void TearDownTestSuite() {
#ifdef SLUICE_HAVE_BROKER_PROCESS
    delete broker_;
    broker_ = nullptr;
#endif
    delete bootstrap_;
    bootstrap_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }

  void SetUp() override {
    if (start_error_ != nullptr) FAIL() << "broker did not start: " << *start_error_;
    if (bootstrap_ == nullptr) GTEST_SKIP() << "no broker: set SLUICE_TEST_BOOTSTRAP";
  }

  static bool HasAdmin() { return std::getenv("SLUICE_TEST_NO_ADMIN") == nullptr; }

  CliResult Sluice(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--bootstrap-server", *bootstrap_, "--timeout-ms", "10000"});
    return RunSluice(args, input);
  }

  // Creates the topic, or (without admin APIs) leaves it to auto-creation.
  void CreateTopic(const std::string& topic, int partitions) {
    if (!HasAdmin()) return;
    CliResult r = Sluice({"topic", "create", topic, "--partitions", std::to_string(partitions),
                          "--replication-factor", "1"});
    ASSERT_EQ(0, r.exit_code) << Describe(r);
  }

  static std::string* bootstrap_;
  static std::string* start_error_;
#ifdef SLUICE_HAVE_BROKER_PROCESS
  static sluice::testing::BrokerProcess* broker_;
#endif
};

std::string* SluiceCliTest::bootstrap_ = nullptr;
std::string* SluiceCliTest::start_error_ = nullptr;
#ifdef SLUICE_HAVE_BROKER_PROCESS
sluice::testing::BrokerProcess* SluiceCliTest::broker_ = nullptr;
#endif

TEST_F(SluiceCliTest, ClusterInfoListsTheBroker) {
  CliResult r = Sluice({"cluster", "info"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.out.find("Brokers:     1")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("Controller:")) << r.out;
}

TEST_F(SluiceCliTest, TopicCreateListDescribeDelete) {
  if (!HasAdmin()) GTEST_SKIP() << "needs admin APIs";
  std::string topic = UniqueTopic("lifecycle");
  CliResult r = Sluice({"topic", "create", topic, "--partitions", "3", "--replication-factor", "1",
                        "--config", "retention.ms=3600000"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_EQ("Created topic '" + topic + "'.\n", r.out);

  r = Sluice({"topic", "list"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  std::vector<std::string> names = Lines(r.out);
  EXPECT_NE(names.end(), std::find(names.begin(), names.end(), topic)) << r.out;

  r = Sluice({"topic", "describe", topic});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.out.find("Partitions: 3  ReplicationFactor: 1")) << r.out;
  for (const char* p : {"Partition: 0 ", "Partition: 1 ", "Partition: 2 "}) {
    EXPECT_NE(std::string::npos, r.out.find(p)) << r.out;
  }
  EXPECT_NE(std::string::npos, r.out.find("Earliest: 0  Latest: 0")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("retention.ms=3600000")) << r.out;

  r = Sluice({"topic", "create", topic});
  EXPECT_EQ(1, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.err.find("error: TOPIC_ALREADY_EXISTS: ")) << r.err;

  r = Sluice({"topic", "delete", topic});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  r = Sluice({"topic", "describe", topic});
  EXPECT_EQ(1, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.err.find("UNKNOWN_TOPIC_OR_PART")) << r.err;
  r = Sluice({"topic", "list"});
  names = Lines(r.out);
  EXPECT_EQ(names.end(), std::find(names.begin(), names.end(), topic)) << r.out;
}

TEST_F(SluiceCliTest, AlterConfigSetsAndRemovesOverrides) {
  if (!HasAdmin()) GTEST_SKIP() << "needs admin APIs";
  std::string topic = UniqueTopic("alter");
  CreateTopic(topic, 1);
  CliResult r = Sluice({"topic", "alter-config", topic, "--set", "retention.ms=60000", "--set",
                        "cleanup.policy=compact"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  r = Sluice({"topic", "alter-config", topic, "--delete", "cleanup.policy"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  r = Sluice({"topic", "describe", topic});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.out.find("retention.ms=60000")) << r.out;
  EXPECT_EQ(std::string::npos, r.out.find("cleanup.policy=compact")) << r.out;
}

TEST_F(SluiceCliTest, AddPartitionsRaisesTheCount) {
  if (!HasAdmin()) GTEST_SKIP() << "needs admin APIs";
  std::string topic = UniqueTopic("grow");
  CreateTopic(topic, 1);
  CliResult r = Sluice({"topic", "add-partitions", topic, "--total", "4"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  r = Sluice({"topic", "describe", topic});
  EXPECT_NE(std::string::npos, r.out.find("Partitions: 4")) << r.out;
}

TEST_F(SluiceCliTest, ProduceKeysAndHeadersThenConsumeWithFormat) {
  std::string topic = UniqueTopic("roundtrip");
  CreateTopic(topic, 2);
  CliResult r = Sluice({"produce", topic, "--partition", "0", "--key-separator", ":", "--header",
                        "trace=abc", "--header", "n=1"},
                       "k1:hello\nk2:world:with colon\n:no key\n");
  ASSERT_EQ(0, r.exit_code) << Describe(r);

  r = Sluice({"consume", topic, "--from-beginning", "--partition", "0", "--count", "3",
              "--timeout-ms", "10000", "--format", "%t/%p@%o %k=%v [%h] %K/%S\\n"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_EQ(topic + "/0@0 k1=hello [trace=abc,n=1] 2/5\n" +
            topic + "/0@1 k2=world:with colon [trace=abc,n=1] 2/16\n" +
            topic + "/0@2 =no key [trace=abc,n=1] 0/6\n",
            r.out);

  // Everything, exiting at the end of every partition (partition 1 is empty).
  r = Sluice({"consume", topic, "--from-beginning", "--exit-at-end"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_EQ("hello\nworld:with colon\nno key\n", r.out);

  // From an absolute offset, and the default format (value per line).
  r = Sluice({"consume", topic, "--partition", "0", "--offset", "2", "--count", "1"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_EQ("no key\n", r.out);

  // The timestamp placeholder is the produce time in ms.
  r = Sluice({"consume", topic, "--partition", "0", "--offset", "0", "--count", "1", "--format",
              "%T"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t ts = std::stoll(r.out);
  EXPECT_LE(now_ms - 600000, ts);
  EXPECT_GE(now_ms + 1000, ts);
}

TEST_F(SluiceCliTest, OffsetsPerPartition) {
  std::string topic = UniqueTopic("offsets");
  CreateTopic(topic, 2);
  CliResult r = Sluice({"produce", topic, "--partition", "0"}, "a\nb\nc\n");
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  r = Sluice({"offsets", topic});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_LE(3u, lines.size()) << r.out;
  EXPECT_EQ("PARTITION  EARLIEST     LATEST", lines[0]);
  EXPECT_EQ("0          0            3", lines[1]);
  EXPECT_EQ("1          0            0", lines[2]);
}

TEST_F(SluiceCliTest, GroupConsumerResumesWhereItStopped) {
  std::string topic = UniqueTopic("group");
  std::string group = topic + "-g";
  CreateTopic(topic, 1);
  CliResult r = Sluice({"produce", topic, "--partition", "0"}, "1\n2\n3\n");
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  // A short session lets the next member join without waiting long for the
  // first one to expire, should the broker miss its LeaveGroup.
  r = Sluice({"-X", "session.timeout.ms=6000", "consume", topic, "--group", group,
              "--from-beginning", "--count", "2", "--timeout-ms", "20000"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_EQ("1\n2\n", r.out);
  r = Sluice({"-X", "session.timeout.ms=6000", "consume", topic, "--group", group, "--count",
              "1", "--timeout-ms", "20000"});
  ASSERT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_EQ("3\n", r.out);
}

TEST_F(SluiceCliTest, ProduceReportsLinesWithoutSeparator) {
  std::string topic = UniqueTopic("badline");
  CreateTopic(topic, 1);
  CliResult r = Sluice({"produce", topic, "--key-separator", "|"}, "a|1\nmissing\nb|2\n");
  EXPECT_EQ(1, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.err.find("line 2")) << r.err;
  EXPECT_NE(std::string::npos, r.err.find("1 of 3 messages failed")) << r.err;
}

TEST_F(SluiceCliTest, MissingTopicFailsWithKafkaErrorName) {
  CliResult r = Sluice({"consume", UniqueTopic("missing"), "--timeout-ms", "1000"});
  EXPECT_EQ(1, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.err.find("error: UNKNOWN_TOPIC_OR_PART: ")) << r.err;
}

TEST_F(SluiceCliTest, UsageErrorsExitTwo) {
  CliResult r = Sluice({"topic", "create"});
  EXPECT_EQ(2, r.exit_code) << Describe(r);
  r = Sluice({"consume", "t", "--format", "%x"});
  EXPECT_EQ(2, r.exit_code) << Describe(r);
  r = Sluice({"-X", "no.such.property=1", "topic", "list"});
  EXPECT_EQ(2, r.exit_code) << Describe(r);
}

// Needs no broker at all, but lives here because it runs the binary.
TEST(SluiceCliNoBrokerTest, UnreachableBrokerExitsThree) {
  auto started = std::chrono::steady_clock::now();
  CliResult r = RunSluice({"--bootstrap-server", "127.0.0.1:" + std::to_string(ClosedPort()),
                           "--timeout-ms", "1000", "topic", "list"});
  EXPECT_EQ(3, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.err.find("error: cannot reach broker 127.0.0.1:")) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
}

TEST(SluiceCliNoBrokerTest, HelpExitsZero) {
  CliResult r = RunSluice({"--help"});
  EXPECT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.out.find("consume")) << r.out;
  r = RunSluice({"consume", "--help"});
  EXPECT_EQ(0, r.exit_code) << Describe(r);
  EXPECT_NE(std::string::npos, r.out.find("--format")) << r.out;
}

}  // namespace
}  // namespace sluice::tools
