#include "config/broker_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace sluice::config {
namespace {

Result<BrokerConfig> FromText(std::string_view text, std::vector<std::string> overrides = {}) {
  auto entries = ParseProperties(text);
  EXPECT_TRUE(entries.ok());
  return BrokerConfig::Build(*entries, "server.properties", overrides);
}

TEST(BrokerConfigTest, Defaults) {
  BrokerConfig c;
  EXPECT_EQ(c.broker_id(), 0);
  ASSERT_EQ(c.listeners().size(), 1u);
  EXPECT_EQ(c.listeners()[0].ToString(), "PLAINTEXT://127.0.0.1:9092");
  EXPECT_EQ(c.advertised_listeners()[0].ToString(), "PLAINTEXT://127.0.0.1:9092");
  EXPECT_EQ(c.log_dirs(), std::vector<std::string>{"./data"});
  EXPECT_EQ(c.GetInt("num.partitions"), 1);
  EXPECT_EQ(c.GetInt("default.replication.factor"), 1);
  EXPECT_EQ(c.log_retention_ms(), 168LL * 3600 * 1000);
  EXPECT_EQ(c.GetLong("log.retention.bytes"), -1);
  EXPECT_EQ(c.GetInt("log.segment.bytes"), 1073741824);
  EXPECT_EQ(c.log_roll_ms(), 168LL * 3600 * 1000);
  EXPECT_EQ(c.GetInt("message.max.bytes"), 1048588);
  EXPECT_TRUE(c.GetBool("auto.create.topics.enable"));
  EXPECT_EQ(c.GetInt("socket.request.max.bytes"), 104857600);
  EXPECT_EQ(c.GetLong("connections.max.idle.ms"), 600000);
  EXPECT_EQ(c.GetInt("offsets.topic.num.partitions"), 50);
  EXPECT_EQ(c.GetInt("offsets.retention.minutes"), 10080);
  EXPECT_EQ(c.GetInt("group.initial.rebalance.delay.ms"), 3000);
  EXPECT_EQ(c.GetList("log.cleanup.policy"), std::vector<std::string>{"delete"});
  EXPECT_EQ(c.GetString("log.message.timestamp.type"), "CreateTime");
  EXPECT_EQ(c.GetString("compression.type"), "producer");
  EXPECT_EQ(c.GetString("sluice.metrics.listener"), "127.0.0.1:9644");
  EXPECT_EQ(c.GetString("sluice.log.level"), "info");
  EXPECT_DOUBLE_EQ(c.GetDouble("log.cleaner.min.cleanable.ratio"), 0.5);
  EXPECT_EQ(c.network_shards(), 0);
  EXPECT_EQ(c.SourceOf("num.partitions"), ConfigSource::kDefault);
  EXPECT_TRUE(c.IgnoredKeysSet().empty());
}

TEST(BrokerConfigTest, FileThenOverridesLaterWins) {
  auto c = FromText("num.partitions=3\nlog.dirs=/a,/b\nbroker.id=5\n",
                    {"num.partitions=4", "num.partitions=6", "log.retention.bytes=100"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetInt("num.partitions"), 6);
  EXPECT_EQ(c->log_dirs(), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(c->broker_id(), 5);
  EXPECT_EQ(c->GetLong("log.retention.bytes"), 100);
  EXPECT_EQ(c->SourceOf("num.partitions"), ConfigSource::kStaticBroker);
  // An override value may itself contain '='.
  auto d = FromText("", {"listeners=PLAINTEXT://127.0.0.1:0", "advertised.listeners=PLAINTEXT://h:1"});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->listeners()[0].port, 0);
  EXPECT_EQ(d->advertised_listeners()[0].host, "h");
}

TEST(BrokerConfigTest, RetentionSynonyms) {
  EXPECT_EQ(FromText("log.retention.hours=1")->log_retention_ms(), 3600000);
  EXPECT_EQ(FromText("log.retention.hours=1\nlog.retention.minutes=2")->log_retention_ms(),
            120000);
  EXPECT_EQ(FromText("log.retention.minutes=2\nlog.retention.ms=5")->log_retention_ms(), 5);
  EXPECT_EQ(FromText("log.retention.ms=-7")->log_retention_ms(), -1);
  EXPECT_EQ(FromText("log.roll.hours=2")->log_roll_ms(), 7200000);
  EXPECT_EQ(FromText("log.roll.hours=2\nlog.roll.ms=9")->log_roll_ms(), 9);
  EXPECT_EQ(FromText("log.dir=/x")->log_dirs(), std::vector<std::string>{"/x"});
  EXPECT_EQ(FromText("node.id=4")->broker_id(), 4);
  EXPECT_EQ(FromText("num.network.threads=3")->network_shards(), 3);
  EXPECT_EQ(FromText("num.network.threads=3\nsluice.network.shards=5")->network_shards(), 5);
}

TEST(BrokerConfigTest, EveryProblemIsNamed) {
  auto c = FromText("no.such.key=1\nnum.partitions=abc\nauto.create.topics.enable=maybe\n",
                    {"num.partitions=0", "another.bad.key=x", "broken"});
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("6 problems"), std::string::npos) << m;
  EXPECT_NE(m.find("server.properties:1: unknown configuration 'no.such.key'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("server.properties:2: invalid value 'abc' for configuration 'num.partitions'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("'auto.create.topics.enable'"), std::string::npos) << m;
  EXPECT_NE(m.find("--override num.partitions: invalid value '0' for configuration "
                   "'num.partitions': must be at least 1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("'another.bad.key'"), std::string::npos) << m;
  EXPECT_NE(m.find("'broken': expected key=value"), std::string::npos) << m;
}

TEST(BrokerConfigTest, TypeValidation) {
  EXPECT_TRUE(FromText("auto.create.topics.enable=TRUE").ok());
  EXPECT_TRUE(FromText("num.partitions= 7 ").ok());
  EXPECT_FALSE(FromText("num.partitions=99999999999").ok());  // INT overflow.
  EXPECT_FALSE(FromText("offsets.topic.replication.factor=40000").ok());  // SHORT.
  EXPECT_FALSE(FromText("log.cleaner.min.cleanable.ratio=1.5").ok());
  EXPECT_FALSE(FromText("log.cleanup.policy=delete,shred").ok());
  EXPECT_TRUE(FromText("log.cleanup.policy=compact, delete").ok());
  EXPECT_FALSE(FromText("compression.type=brotli").ok());
  EXPECT_FALSE(FromText("log.message.timestamp.type=createtime").ok());
  EXPECT_FALSE(FromText("sluice.log.level=loud").ok());
  EXPECT_FALSE(FromText("log.segment.bytes=13").ok());
  EXPECT_FALSE(FromText("sluice.metrics.listener=nohostport").ok());
  EXPECT_TRUE(FromText("sluice.metrics.listener=").ok());
}

TEST(BrokerConfigTest, ListenerValidation) {
  EXPECT_TRUE(FromText("listeners=PLAINTEXT://:9092").ok());
  EXPECT_TRUE(FromText("listeners=PLAINTEXT://[::1]:9092").ok());
  auto two = FromText(
      "listeners=INTERNAL://127.0.0.1:1,EXTERNAL://0.0.0.0:2\n"
      "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT\n"
      "advertised.listeners=EXTERNAL://broker.example:2\n");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->listeners().size(), 2u);
  EXPECT_FALSE(FromText("listeners=PLAINTEXT://host").ok());
  EXPECT_FALSE(FromText("listeners=PLAINTEXT://host:70000").ok());
  EXPECT_FALSE(FromText("listeners=127.0.0.1:9092").ok());
  EXPECT_FALSE(FromText("listeners=PLAINTEXT://a:1,PLAINTEXT://b:2").ok());
  EXPECT_FALSE(FromText("listeners=UNKNOWN://a:1").ok());
  auto ssl = FromText("listeners=SSL://a:1");
  ASSERT_FALSE(ssl.ok());
  EXPECT_NE(ssl.status().message().find("does not support"), std::string::npos);
  EXPECT_FALSE(FromText("advertised.listeners=PLAINTEXT://0.0.0.0:9092").ok());
  EXPECT_FALSE(FromText("broker.id=1\nnode.id=2").ok());
}

TEST(BrokerConfigTest, KafkaSampleServerPropertiesLoads) {
  // Kafka 3.x config/server.properties, comments removed.
  auto c = FromText(R"(broker.id=0
listeners=PLAINTEXT://127.0.0.1:9092
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kafka-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
zookeeper.connect=localhost:2181
zookeeper.connection.timeout.ms=18000
group.initial.rebalance.delay.ms=0
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto ignored = c->IgnoredKeysSet();
  EXPECT_NE(std::find(ignored.begin(), ignored.end(), "num.io.threads"), ignored.end());
  // The sample joins a ZooKeeper cluster, as it does in Kafka.
  EXPECT_EQ(std::find(ignored.begin(), ignored.end(), "zookeeper.connect"), ignored.end());
  EXPECT_EQ(c->zookeeper_connect(), "localhost:2181");
  EXPECT_EQ(c->zookeeper_connection_timeout_ms(), 18000);
}

TEST(BrokerConfigTest, ZooKeeperAndRack) {
  BrokerConfig defaults;
  EXPECT_EQ(defaults.zookeeper_connect(), std::nullopt);  // A single node.
  EXPECT_EQ(defaults.GetInt("zookeeper.session.timeout.ms"), 18000);
  EXPECT_EQ(defaults.zookeeper_connection_timeout_ms(), 18000);
  EXPECT_EQ(defaults.rack(), std::nullopt);

  auto c = FromText("zookeeper.connect=127.0.0.1:2181,[::1]:2182/sluice/prod\n"
                    "zookeeper.session.timeout.ms=3000\nbroker.rack=rack-a\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->zookeeper_connect(), "127.0.0.1:2181,[::1]:2182/sluice/prod");
  EXPECT_EQ(c->zookeeper_connection_timeout_ms(), 3000);  // Follows the session timeout.
  EXPECT_EQ(c->rack(), "rack-a");
  EXPECT_TRUE(c->IgnoredKeysSet().empty());
  EXPECT_EQ(FromText("zookeeper.connection.timeout.ms=500")->zookeeper_connection_timeout_ms(),
            500);
}

TEST(BrokerConfigTest, BadZooKeeperSettingsAreRefusedByName) {
  auto refused = [](std::string_view text, std::string_view why) {
    auto c = FromText(text);
    if (c.ok()) return ::testing::AssertionFailure() << text << ": accepted";
    const std::string& m = c.status().message();
    if (m.find(why) == std::string::npos) {
      return ::testing::AssertionFailure() << text << ": " << m;
    }
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(refused("zookeeper.connect=", "'zookeeper.connect': no server given"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1", "'zk1' is not host:port"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1:0", "invalid port '0'"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1:2181,zk2:99999", "invalid port '99999'"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1:2181,,zk2:2181", "empty entry"));
  EXPECT_TRUE(refused("zookeeper.connect=:2181", "has no host"));
  EXPECT_TRUE(refused("zookeeper.connect=::1:2181", "in brackets"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1:2181/sluice/", "ends with '/'"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1:2181/a//b", "empty path segment"));
  EXPECT_TRUE(refused("zookeeper.connect=zk1:2181/a/../b", "relative path segment"));
  EXPECT_TRUE(refused("zookeeper.session.timeout.ms=0", "must be at least 1"));
  EXPECT_TRUE(refused("zookeeper.session.timeout.ms=soon", "expected a 32-bit integer"));
  EXPECT_TRUE(refused("zookeeper.connection.timeout.ms=-1", "must be at least 1"));
  EXPECT_TRUE(refused("broker.rack=", "'broker.rack': must not be empty"));
  // A chroot of "/" is the root itself.
  EXPECT_TRUE(FromText("zookeeper.connect=zk1:2181/").ok());
}

TEST(BrokerConfigTest, LeaderRebalanceSettings) {
  BrokerConfig defaults;
  EXPECT_TRUE(defaults.GetBool("auto.leader.rebalance.enable"));
  EXPECT_EQ(defaults.GetLong("leader.imbalance.check.interval.seconds"), 300);
  EXPECT_EQ(defaults.GetInt("leader.imbalance.per.broker.percentage"), 10);
  auto c = FromText("auto.leader.rebalance.enable=false\n"
                    "leader.imbalance.check.interval.seconds=1\n"
                    "leader.imbalance.per.broker.percentage=0\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->GetBool("auto.leader.rebalance.enable"));
  EXPECT_EQ(c->GetLong("leader.imbalance.check.interval.seconds"), 1);
  EXPECT_EQ(c->GetInt("leader.imbalance.per.broker.percentage"), 0);
  EXPECT_TRUE(c->IgnoredKeysSet().empty());  // Real settings now, not accepted and ignored.
  EXPECT_FALSE(FromText("leader.imbalance.check.interval.seconds=0").ok());
  EXPECT_FALSE(FromText("leader.imbalance.per.broker.percentage=-1").ok());
}

TEST(BrokerConfigTest, LoadReadsFileAndAppliesOverrides) {
  sluice::testing::TempDir dir;
  const auto path = (dir.path() / "server.properties").string();
  std::ofstream(path) << "num.partitions=2\n# comment\nbogus.key=1\n";
  auto bad = BrokerConfig::Load(path, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path + ":3: unknown configuration 'bogus.key'"),
            std::string::npos)
      << bad.status().message();
  std::ofstream(path) << "num.partitions=2\n";
  auto good = BrokerConfig::Load(path, {"num.partitions=9"});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->GetInt("num.partitions"), 9);
  EXPECT_FALSE(BrokerConfig::Load(path + ".missing", {}).ok());
}

TEST(BrokerConfigTest, DescribeReportsSourcesAndTypes) {
  auto c = FromText("num.partitions=3\n");
  ASSERT_TRUE(c.ok());
  bool saw_partitions = false, saw_segment = false;
  for (const ConfigEntry& e : c->Describe()) {
    if (e.name == "num.partitions") {
      saw_partitions = true;
      EXPECT_EQ(e.value, "3");
      EXPECT_EQ(e.source, ConfigSource::kStaticBroker);
      EXPECT_EQ(e.type, ConfigType::kInt);
      EXPECT_TRUE(e.read_only);
    }
    if (e.name == "log.segment.bytes") {
      saw_segment = true;
      EXPECT_EQ(e.value, "1073741824");
      EXPECT_EQ(e.source, ConfigSource::kDefault);
    }
    if (e.name == "log.retention.ms") {
      EXPECT_FALSE(e.value.has_value());  // Null default.
    }
  }
  EXPECT_TRUE(saw_partitions && saw_segment);
}

}  // namespace
}  // namespace sluice::config
