// NetworkControllerChannel against FakeBrokers on loopback: order per
// broker, a broker that comes up late, a connection lost mid-request,
// removal and shutdown while a broker never answers. Tests wait on the
// channel's delivery reports and the fake's records, never on the clock.
#include "interbroker/controller_channel_client.h"

#include <chrono>

#include <gtest/gtest.h>

#include "base/mutex.h"
#include "fake_broker.h"
#include "protocol/error_code.h"

namespace sluice::interbroker {
namespace {

using namespace std::chrono_literals;
using Action = FakeBroker::Action;

// Collects the channel's reports.
class Deliveries {
 public:
  void Add(const Delivery& d) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      all_.push_back(d);
    }
    changed_.SignalAll();
  }
  void AddFailure(int32_t broker) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      ++failures_[broker];
    }
    changed_.SignalAll();
  }
  // Waits until `n` requests to `broker` were reported.
  bool WaitFor(int32_t broker, size_t n, std::chrono::milliseconds timeout = 30s) EXCLUDES(mu_) {
    return Wait([&]() REQUIRES(mu_) { return CountLocked(broker) >= n; }, timeout);
  }
  bool WaitForFailures(int32_t broker, int n, std::chrono::milliseconds timeout = 30s)
      EXCLUDES(mu_) {
    return Wait([&]() REQUIRES(mu_) { return failures_[broker] >= n; }, timeout);
  }
  std::vector<Delivery> Of(int32_t broker) const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    std::vector<Delivery> out;
    for (const Delivery& d : all_) {
      if (d.broker_id == broker) out.push_back(d);
    }
    return out;
  }

 private:
  size_t CountLocked(int32_t broker) const REQUIRES(mu_) {
    size_t n = 0;
    for (const Delivery& d : all_) n += d.broker_id == broker ? 1 : 0;
    return n;
  }
  template <typename Done>
  bool Wait(Done done, std::chrono::milliseconds timeout) EXCLUDES(mu_) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    MutexLock lock(&mu_);
    while (!done()) {
      if (!changed_.WaitUntil(&mu_, deadline) && !done()) return false;
    }
    return true;
  }

  mutable Mutex mu_;
  CondVar changed_;
  std::vector<Delivery> all_ GUARDED_BY(mu_);
  std::map<int32_t, int> failures_ GUARDED_BY(mu_);
};

NetworkControllerChannelOptions Options(Deliveries* deliveries) {
  return {.listener = "INTERNAL",
          .connect_timeout = 5s,
          .request_timeout = 60s,  // longer than any test: only a signal ends a call
          .retry_backoff = 10ms,
          .max_retry_backoff = 50ms,
          .on_delivery = [deliveries](const Delivery& d) { deliveries->Add(d); },
          .on_send_failure = [deliveries](int32_t broker, int16_t,
                                          const Status&) { deliveries->AddFailure(broker); }};
}

zk::BrokerRegistration Registration(int32_t id, const FakeBroker& broker) {
  return {.id = id,
          .endpoints = {broker.endpoint("INTERNAL")},
          .security_protocols = {{"INTERNAL", "PLAINTEXT"}}};
}

// Requests numbered by their controller epoch.
controller::LeaderAndIsrRequest LeaderAndIsr(int32_t n) {
  controller::LeaderAndIsrRequest r{.controller_id = 1, .controller_epoch = n};
  r.partitions.push_back({.topic = "t",
                          .topic_id = {1, 2, 3},
                          .partition = n,
                          .leader = 1,
                          .isr = {1},
                          .replicas = {1}});
  return r;
}
controller::UpdateMetadataRequest UpdateMetadata(int32_t n) {
  controller::UpdateMetadataRequest r{.controller_id = 1, .controller_epoch = n};
  r.live_brokers.push_back({.id = 1, .endpoints = {"INTERNAL://127.0.0.1:1"}});
  return r;
}
controller::StopReplicaRequest StopReplica(int32_t n) {
  controller::StopReplicaRequest r{.controller_id = 1, .controller_epoch = n};
  r.partitions.push_back({.topic = "t", .partition = n, .delete_partition = true});
  return r;
}

std::vector<int32_t> Epochs(const std::vector<ReceivedRequest>& received) {
  std::vector<int32_t> out;
  for (const ReceivedRequest& r : received) out.push_back(r.controller_epoch);
  return out;
}

TEST(NetworkControllerChannel, RequestsArriveInOrderPerBroker) {
  FakeBroker broker;
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, broker)).ok());

  constexpr int kRequests = 30;
  for (int n = 1; n <= kRequests; ++n) {
    switch (n % 3) {
      case 0:
        channel.SendLeaderAndIsr(1, LeaderAndIsr(n));
        break;
      case 1:
        channel.SendUpdateMetadata({1}, UpdateMetadata(n));
        break;
      case 2:
        channel.SendStopReplica(1, StopReplica(n));
        break;
    }
  }
  ASSERT_TRUE(deliveries.WaitFor(1, kRequests));

  const std::vector<ReceivedRequest> received = broker.received();
  ASSERT_EQ(received.size(), static_cast<size_t>(kRequests));
  for (int n = 1; n <= kRequests; ++n) {
    const ReceivedRequest& r = received[static_cast<size_t>(n - 1)];
    EXPECT_EQ(r.controller_epoch, n);
    EXPECT_EQ(r.client_id, "sluice-controller");
    EXPECT_EQ(r.connection, 1);
    switch (n % 3) {
      case 0:
        EXPECT_EQ(r.api_version, kLeaderAndIsrVersion);
        ASSERT_TRUE(r.leader_and_isr);
        ASSERT_EQ(r.leader_and_isr->partitions.size(), 1u);
        EXPECT_EQ(r.leader_and_isr->partitions[0].partition, n);
        break;
      case 1:
        EXPECT_EQ(r.api_version, kUpdateMetadataVersion);
        ASSERT_TRUE(r.update_metadata);
        break;
      case 2:
        EXPECT_EQ(r.api_version, kStopReplicaVersion);
        ASSERT_TRUE(r.stop_replica);
        break;
    }
  }
  for (const Delivery& d : deliveries.Of(1)) {
    EXPECT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.error_code, 0);
    EXPECT_EQ(d.attempts, 1);
  }
}

TEST(NetworkControllerChannel, UpdateMetadataGoesToEveryBrokerNamed) {
  FakeBroker a, b, c;
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, a)).ok());
  ASSERT_TRUE(channel.AddBroker(Registration(2, b)).ok());
  ASSERT_TRUE(channel.AddBroker(Registration(3, c)).ok());
  EXPECT_EQ(channel.brokers(), (std::vector<int32_t>{1, 2, 3}));

  channel.SendUpdateMetadata({1, 3}, UpdateMetadata(5));
  channel.SendLeaderAndIsr(2, LeaderAndIsr(6));
  ASSERT_TRUE(deliveries.WaitFor(1, 1));
  ASSERT_TRUE(deliveries.WaitFor(2, 1));
  ASSERT_TRUE(deliveries.WaitFor(3, 1));
  EXPECT_EQ(Epochs(a.received()), std::vector<int32_t>{5});
  EXPECT_EQ(Epochs(b.received()), std::vector<int32_t>{6});
  EXPECT_EQ(Epochs(c.received()), std::vector<int32_t>{5});
}

TEST(NetworkControllerChannel, TheConfiguredListenerIsUsedElseTheFirstEndpoint) {
  FakeBroker internal, first;
  FakeBroker down(nullptr, /*listen=*/false);  // refuses connections
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  // The INTERNAL endpoint, although it is not the first.
  ASSERT_TRUE(
      channel
          .AddBroker({.id = 1,
                      .endpoints = {down.endpoint("EXTERNAL"), internal.endpoint("INTERNAL")},
                      .security_protocols = {{"EXTERNAL", "SSL"}, {"INTERNAL", "PLAINTEXT"}}})
          .ok());
  // No INTERNAL listener: the first endpoint.
  ASSERT_TRUE(channel
                  .AddBroker({.id = 2,
                              .endpoints = {first.endpoint("REPLICATION"), down.endpoint("OTHER")}})
                  .ok());
  EXPECT_FALSE(channel.AddBroker({.id = 3, .endpoints = {"no endpoint"}}).ok());

  channel.SendStopReplica(1, StopReplica(1));
  channel.SendStopReplica(2, StopReplica(2));
  ASSERT_TRUE(deliveries.WaitFor(1, 1));
  ASSERT_TRUE(deliveries.WaitFor(2, 1));
  EXPECT_EQ(Epochs(internal.received()), std::vector<int32_t>{1});
  EXPECT_EQ(Epochs(first.received()), std::vector<int32_t>{2});
  EXPECT_EQ(deliveries.Of(1).at(0).attempts, 1);
  EXPECT_EQ(deliveries.Of(2).at(0).attempts, 1);
}

TEST(NetworkControllerChannel, ABrokerDownAtFirstGetsItsQueueOnceItIsUp) {
  FakeBroker broker(nullptr, /*listen=*/false);
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, broker)).ok());
  channel.SendLeaderAndIsr(1, LeaderAndIsr(1));
  channel.SendUpdateMetadata({1}, UpdateMetadata(2));
  channel.SendStopReplica(1, StopReplica(3));

  // Refused, and refused again after a backoff: the channel keeps trying.
  ASSERT_TRUE(deliveries.WaitForFailures(1, 3));
  EXPECT_TRUE(deliveries.Of(1).empty());
  broker.Listen();

  ASSERT_TRUE(deliveries.WaitFor(1, 3));
  EXPECT_EQ(Epochs(broker.received()), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(broker.connections(), 1);
  const std::vector<Delivery> d = deliveries.Of(1);
  EXPECT_TRUE(d[0].status.ok()) << d[0].status.ToString();
  EXPECT_GE(d[0].attempts, 4);  // at least three refusals, then the send
  EXPECT_EQ(d[1].attempts, 1);
  EXPECT_EQ(d[2].attempts, 1);
}

TEST(NetworkControllerChannel, ARequestLostWithItsConnectionIsSentAgain) {
  // The first request is read and the connection closed unanswered; the
  // second copy is answered.
  FakeBroker broker(
      [](size_t n, const ReceivedRequest&) { return n == 0 ? Action::kClose : Action::kAnswer; });
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, broker)).ok());
  channel.SendLeaderAndIsr(1, LeaderAndIsr(1));
  channel.SendStopReplica(1, StopReplica(2));

  ASSERT_TRUE(deliveries.WaitFor(1, 2));
  const std::vector<ReceivedRequest> received = broker.received();
  EXPECT_EQ(Epochs(received), (std::vector<int32_t>{1, 1, 2}));
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].connection, 1);
  EXPECT_EQ(received[1].connection, 2);
  EXPECT_EQ(received[2].connection, 2);
  const std::vector<Delivery> d = deliveries.Of(1);
  EXPECT_TRUE(d[0].status.ok()) << d[0].status.ToString();
  EXPECT_EQ(d[0].attempts, 2);
  EXPECT_EQ(d[1].attempts, 1);
}

TEST(NetworkControllerChannel, AnErrorAnswerIsReportedAndNotRetried) {
  FakeBroker broker([](size_t n, const ReceivedRequest&) {
    return n == 0 ? Action::kAnswerError : Action::kAnswer;
  });
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, broker)).ok());
  channel.SendLeaderAndIsr(1, LeaderAndIsr(1));
  channel.SendLeaderAndIsr(1, LeaderAndIsr(2));

  ASSERT_TRUE(deliveries.WaitFor(1, 2));
  EXPECT_EQ(Epochs(broker.received()), (std::vector<int32_t>{1, 2}));
  const std::vector<Delivery> d = deliveries.Of(1);
  EXPECT_TRUE(d[0].status.ok());
  EXPECT_EQ(d[0].error_code, protocol::ToWire(protocol::ErrorCode::STALE_CONTROLLER_EPOCH));
  EXPECT_EQ(d[0].attempts, 1);
  EXPECT_EQ(d[0].api_key, protocol::LeaderAndIsrRequest::kApiKey);
  EXPECT_EQ(d[1].error_code, 0);
}

TEST(NetworkControllerChannel, SendsToUnknownBrokersAreDropped) {
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  channel.SendLeaderAndIsr(7, LeaderAndIsr(1));
  channel.SendUpdateMetadata({7, 8}, UpdateMetadata(2));
  EXPECT_EQ(channel.dropped(), 3u);
}

TEST(NetworkControllerChannel, RemoveBrokerDropsItsQueueAndStopsItsThread) {
  FakeBroker broker([](size_t, const ReceivedRequest&) { return Action::kNeverAnswer; });
  FakeBroker other;
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, broker)).ok());
  ASSERT_TRUE(channel.AddBroker(Registration(2, other)).ok());
  channel.SendLeaderAndIsr(1, LeaderAndIsr(1));
  ASSERT_TRUE(broker.WaitForRequests(1));
  channel.SendUpdateMetadata({1, 2}, UpdateMetadata(2));
  channel.SendStopReplica(1, StopReplica(3));

  const auto start = std::chrono::steady_clock::now();
  channel.RemoveBroker(1);
  // The call in flight was interrupted, not waited out (request_timeout 60 s).
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);

  // Its thread is gone: its connection closed, and all three reported
  // dropped before RemoveBroker returned.
  ASSERT_TRUE(broker.WaitForClientClose(1));
  const std::vector<Delivery> d = deliveries.Of(1);
  ASSERT_EQ(d.size(), 3u);
  for (const Delivery& x : d) EXPECT_EQ(x.status.code(), StatusCode::kAborted);
  EXPECT_EQ(d[0].attempts, 1);
  EXPECT_EQ(channel.brokers(), std::vector<int32_t>{2});

  // Later sends are dropped; the other broker goes on.
  channel.SendStopReplica(1, StopReplica(4));
  EXPECT_EQ(channel.dropped(), 1u);
  channel.SendStopReplica(2, StopReplica(5));
  ASSERT_TRUE(deliveries.WaitFor(2, 2));
  EXPECT_EQ(Epochs(other.received()), (std::vector<int32_t>{2, 5}));
  EXPECT_EQ(Epochs(broker.received()), std::vector<int32_t>{1});
}

TEST(NetworkControllerChannel, ANewRegistrationReplacesTheSender) {
  FakeBroker old_process([](size_t, const ReceivedRequest&) { return Action::kNeverAnswer; });
  FakeBroker new_process;
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  zk::BrokerRegistration first = Registration(1, old_process);
  first.timestamp_ms = 100;
  ASSERT_TRUE(channel.AddBroker(first).ok());
  ASSERT_TRUE(channel.AddBroker(first).ok());  // the same: nothing changes
  channel.SendLeaderAndIsr(1, LeaderAndIsr(1));
  ASSERT_TRUE(old_process.WaitForRequests(1));

  zk::BrokerRegistration second = Registration(1, new_process);
  second.timestamp_ms = 200;
  ASSERT_TRUE(channel.AddBroker(second).ok());
  ASSERT_TRUE(deliveries.WaitFor(1, 1));
  EXPECT_EQ(deliveries.Of(1)[0].status.code(), StatusCode::kAborted);
  channel.SendLeaderAndIsr(1, LeaderAndIsr(2));
  ASSERT_TRUE(deliveries.WaitFor(1, 2));
  EXPECT_TRUE(deliveries.Of(1)[1].status.ok());
  EXPECT_EQ(Epochs(new_process.received()), std::vector<int32_t>{2});
  EXPECT_EQ(old_process.connections(), 1);
}

TEST(NetworkControllerChannel, ShutdownWithABrokerThatNeverAnswersIsPrompt) {
  FakeBroker silent([](size_t, const ReceivedRequest&) { return Action::kNeverAnswer; });
  FakeBroker down(nullptr, /*listen=*/false);
  Deliveries deliveries;
  NetworkControllerChannel channel(Options(&deliveries));
  ASSERT_TRUE(channel.AddBroker(Registration(1, silent)).ok());
  ASSERT_TRUE(channel.AddBroker(Registration(2, down)).ok());
  channel.SendLeaderAndIsr(1, LeaderAndIsr(1));
  channel.SendLeaderAndIsr(2, LeaderAndIsr(1));
  ASSERT_TRUE(silent.WaitForRequests(1));
  ASSERT_TRUE(deliveries.WaitForFailures(2, 1));

  const auto start = std::chrono::steady_clock::now();
  channel.Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_EQ(deliveries.Of(1).size(), 1u);
  EXPECT_EQ(deliveries.Of(1)[0].status.code(), StatusCode::kAborted);
  ASSERT_EQ(deliveries.Of(2).size(), 1u);
  EXPECT_EQ(deliveries.Of(2)[0].status.code(), StatusCode::kAborted);
  EXPECT_TRUE(silent.WaitForClientClose(1));

  EXPECT_TRUE(channel.brokers().empty());
  EXPECT_EQ(channel.AddBroker(Registration(1, silent)).code(), StatusCode::kAborted);
  channel.SendLeaderAndIsr(1, LeaderAndIsr(2));
  EXPECT_EQ(channel.dropped(), 1u);
  channel.Shutdown();  // idempotent
}

}  // namespace
}  // namespace sluice::interbroker
