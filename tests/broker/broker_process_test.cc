// Integration: the real sluice-broker binary, started like kafka-server-start.
#include "support/broker_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "support/temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

bool CanConnect(const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

TEST(BrokerProcessTest, StartsOnAFreePortAndStopsCleanlyOnSigterm) {
  BrokerProcess broker;
  Status started = broker.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  EXPECT_EQ(broker.host(), "127.0.0.1");
  EXPECT_NE(broker.port(), 0);
  EXPECT_NE(broker.output().find("sluice-broker ready: listening on PLAINTEXT://127.0.0.1:" +
                                 std::to_string(broker.port())),
            std::string::npos)
      << broker.output();
  EXPECT_TRUE(CanConnect(broker.host(), broker.port()));
  EXPECT_TRUE(std::filesystem::is_directory(broker.log_dir()));
  auto code = broker.Stop();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << broker.output();
  EXPECT_NE(broker.output().find("stopped"), std::string::npos) << broker.output();
}

TEST(BrokerProcessTest, CleanShutdownMarkerOnlyAfterACleanStop) {
  TempDir dir;
  BrokerProcessOptions options;
  options.log_dir = dir.path() / "data";
  const auto marker = options.log_dir / ".kafka_cleanshutdown";
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start(options).ok()) << broker.output();
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(broker.Stop().value(), 0) << broker.output();
  EXPECT_TRUE(std::filesystem::exists(marker));
  // The next start consumes the marker; a crash leaves none behind.
  ASSERT_TRUE(broker.Start(options).ok()) << broker.output();
  EXPECT_FALSE(std::filesystem::exists(marker));
  broker.Kill();
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(BrokerProcessTest, SigintAlsoStopsCleanly) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start().ok()) << broker.output();
  auto code = broker.Stop(30s, SIGINT);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << broker.output();
}

TEST(BrokerProcessTest, ReadsAPropertiesFileAndOverridesWin) {
  TempDir dir;
  const auto path = (dir.path() / "server.properties").string();
  std::ofstream(path) << "# Kafka-style file\nbroker.id=7\nnum.partitions=3\n"
                         "listeners=PLAINTEXT://127.0.0.1:1\n";
  BrokerProcess broker;
  BrokerProcessOptions options;
  options.args = {path};
  options.overrides = {"sluice.network.shards=1"};
  ASSERT_TRUE(broker.Start(options).ok()) << broker.output();  // Port 1 overridden by 0.
  EXPECT_NE(broker.output().find("broker.id=7"), std::string::npos) << broker.output();
  EXPECT_NE(broker.output().find("shards=1"), std::string::npos) << broker.output();
  auto code = broker.Stop();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << broker.output();
}

TEST(BrokerProcessTest, InvalidConfigurationIsRefusedNamingEachKey) {
  auto run = BrokerProcess::Run({"--override", "no.such.key=1", "--override",
                                 "num.partitions=many"});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->first, 2);
  EXPECT_NE(run->second.find("no.such.key"), std::string::npos) << run->second;
  EXPECT_NE(run->second.find("num.partitions"), std::string::npos) << run->second;
  EXPECT_EQ(run->second.find("ready"), std::string::npos);
}

TEST(BrokerProcessTest, InvalidPropertiesFileIsRefusedWithFileAndLine) {
  TempDir dir;
  const auto path = (dir.path() / "server.properties").string();
  std::ofstream(path) << "num.partitions=1\nlog.segment.bytes=tiny\n";
  auto run = BrokerProcess::Run({path});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->first, 2);
  EXPECT_NE(run->second.find(path + ":2"), std::string::npos) << run->second;
  EXPECT_NE(run->second.find("log.segment.bytes"), std::string::npos) << run->second;
  auto missing = BrokerProcess::Run({path + ".missing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->first, 2);
}

TEST(BrokerProcessTest, BadCommandLine) {
  auto run = BrokerProcess::Run({"--bogus"});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->first, 2);
  EXPECT_NE(run->second.find("Usage"), std::string::npos);
  auto dangling = BrokerProcess::Run({"--override"});
  ASSERT_TRUE(dangling.ok());
  EXPECT_EQ(dangling->first, 2);
}

TEST(BrokerProcessTest, HelpAndVersion) {
  auto help = BrokerProcess::Run({"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->first, 0);
  EXPECT_NE(help->second.find("--override"), std::string::npos);
  auto version = BrokerProcess::Run({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->first, 0);
  EXPECT_NE(version->second.find("sluice-broker "), std::string::npos);
}

TEST(BrokerProcessTest, PortInUseExitsWithOne) {
  BrokerProcess first;
  ASSERT_TRUE(first.Start().ok()) << first.output();
  TempDir dir;
  auto run = BrokerProcess::Run(
      {"--override", "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(first.port()),
       "--override", "log.dirs=" + (dir.path() / "data").string()});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->first, 1) << run->second;
  EXPECT_NE(run->second.find("cannot listen"), std::string::npos) << run->second;
  EXPECT_EQ(first.Stop().value(), 0);
}

TEST(BrokerProcessTest, ASecondBrokerOnTheSameLogDirIsRefused) {
  TempDir dir;
  BrokerProcessOptions options;
  options.log_dir = dir.path() / "data";
  const std::string shared = options.log_dir.string();
  BrokerProcess first;
  ASSERT_TRUE(first.Start(options).ok()) << first.output();
  // Alone, or listed after a free dir: refused, naming the dir in use.
  for (const std::string& dirs : {shared, (dir.path() / "other").string() + "," + shared}) {
    auto second = BrokerProcess::Run(
        {"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "log.dirs=" + dirs});
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->first, 1) << second->second;
    EXPECT_NE(second->second.find("log dir " + shared + " is in use by another process"),
              std::string::npos)
        << second->second;
    EXPECT_EQ(second->second.find("ready"), std::string::npos) << second->second;
  }
  // The first goes on untouched and stops cleanly.
  EXPECT_TRUE(CanConnect(first.host(), first.port()));
  EXPECT_EQ(first.Stop().value(), 0) << first.output();
  EXPECT_TRUE(std::filesystem::exists(options.log_dir / ".kafka_cleanshutdown"));
  // A stopped or killed holder frees the dir.
  ASSERT_TRUE(first.Start(options).ok()) << first.output();
  first.Kill();
  ASSERT_TRUE(first.Start(options).ok()) << first.output();
  EXPECT_EQ(first.output().find("ignored unknown entry " + shared + "/.lock"), std::string::npos);
  EXPECT_EQ(first.Stop().value(), 0) << first.output();
}

}  // namespace
}  // namespace sluice::testing
