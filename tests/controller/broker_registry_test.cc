// Broker registration and the live broker set, through a real ZooKeeper.
#include "controller/broker_registry.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "support/wait_until.h"
#include "support/zookeeper_ensemble.h"

namespace sluice::controller {
namespace {

using namespace std::chrono_literals;
using testing::WaitUntil;
using testing::ZooKeeperEnsemble;

zk::BrokerRegistration Self(int32_t id) {
  zk::BrokerRegistration b;
  b.id = id;
  b.endpoints = {"PLAINTEXT://127.0.0.1:" + std::to_string(19090 + id)};
  b.security_protocols = {{"PLAINTEXT", "PLAINTEXT"}};
  b.rack = "rack-" + std::to_string(id % 2);
  return b;
}

// One broker: a session, a loop and a registry.
struct Broker {
  Broker(const std::string& connect, int32_t id, int32_t session_timeout_ms = 6000)
      : loop("registry-" + std::to_string(id)) {
    ZkSessionOptions o;
    o.zk.connect = connect;
    o.zk.session_timeout_ms = session_timeout_ms;
    o.on_new_session = [this] { registry->OnNewSession(); };
    auto s = ZkSession::Open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error().message();
    session = std::move(*s);
    RegistryOptions r;
    r.self = Self(id);
    r.session_timeout_ms = session_timeout_ms;
    registry = std::make_unique<BrokerRegistry>(session.get(), &loop, r);
  }
  ~Broker() {
    loop.Stop();
    session.reset();
  }
  EventLoop loop;
  std::unique_ptr<ZkSession> session;
  std::unique_ptr<BrokerRegistry> registry;
};

class BrokerRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(zk_.Start().ok()); }
  ZooKeeperEnsemble zk_{1};
};

TEST_F(BrokerRegistryTest, TheFirstBrokerWritesTheClusterIdAndLaterOnesReadIt) {
  Broker a(zk_.connect_string(), 1), b(zk_.connect_string(), 2);
  auto first = BrokerRegistry::EnsureClusterId(*a.session->client(), "cluster-A");
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(*first, "cluster-A");
  auto second = BrokerRegistry::EnsureClusterId(*b.session->client(), "cluster-B");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "cluster-A");
}

TEST_F(BrokerRegistryTest, EveryBrokerSeesTheLiveSetChangeAsBrokersComeAndGo) {
  auto one = std::make_unique<Broker>(zk_.connect_string(), 1);
  auto two = std::make_unique<Broker>(zk_.connect_string(), 2);
  ASSERT_TRUE(one->registry->Register().ok());
  ASSERT_TRUE(two->registry->Register().ok());
  one->registry->Start();
  two->registry->Start();
  auto ids = [](const Broker& b) {
    std::vector<int32_t> out;
    for (const auto& [id, reg] : b.registry->live_brokers()) out.push_back(id);
    return out;
  };
  ASSERT_TRUE(WaitUntil([&] { return ids(*one) == std::vector<int32_t>{1, 2}; }));
  ASSERT_TRUE(WaitUntil([&] { return ids(*two) == std::vector<int32_t>{1, 2}; }));
  const zk::BrokerRegistration seen = one->registry->live_brokers().at(2);
  EXPECT_EQ(seen.endpoints, Self(2).endpoints);
  EXPECT_EQ(seen.rack, Self(2).rack);

  two.reset();  // Its session closes: its node goes, and broker 1 hears it.
  ASSERT_TRUE(WaitUntil([&] { return ids(*one) == std::vector<int32_t>{1}; }));
}

TEST_F(BrokerRegistryTest, ARestartedBrokerWaitsOutThePreviousProcesssNode) {
  // The "previous process": registers broker 7 with a 2 s session, then is
  // killed -9, so its node stays until ZooKeeper expires that session.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    zk::ZkOptions o;
    o.connect = zk_.connect_string();
    o.session_timeout_ms = 2000;
    auto c = zk::ZkClient::Connect(o);
    if (!c.ok() || !(*c)->CreateRecursive(zk::kBrokerIdsPath).ok() ||
        !(*c)->Create(zk::BrokerPath(7), zk::EncodeBroker(Self(7)), zk::CreateMode::kEphemeral)
             .ok()) {
      ::_exit(1);
    }
    (void)!::write(ready[1], "r", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  Broker again(zk_.connect_string(), 7, /*session_timeout_ms=*/6000);
  const auto start = std::chrono::steady_clock::now();
  zk::ZkError e = again.registry->Register();
  ASSERT_TRUE(e.ok()) << e.message();
  // It had to wait for the old session to expire (2 s), not fail or win early.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
  auto node = again.session->client()->Exists(zk::BrokerPath(7));
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->ephemeral_owner, again.session->client()->session_id());
}

TEST_F(BrokerRegistryTest, ASecondLiveBrokerWithTheSameIdIsRefused) {
  Broker first(zk_.connect_string(), 3, /*session_timeout_ms=*/1000);
  ASSERT_TRUE(first.registry->Register().ok());
  Broker second(zk_.connect_string(), 3, /*session_timeout_ms=*/1000);
  zk::ZkError e = second.registry->Register();
  EXPECT_EQ(e.code(), zk::ZkCode::kNodeExists);
  EXPECT_NE(e.message().find("another live broker has id 3"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace sluice::controller
