// The stopping broker's side of a controlled shutdown
// (broker/controlled_shutdown.h): its requests and retries, against a peer
// on a loopback socket that plays the controller and answers as the test
// scripts it. The backoff between attempts goes through the injected wait,
// which records it instead of sleeping. The controller's side is
// tests/controller/controlled_shutdown_test.cc; both together, with real
// brokers, tests/replication/controlled_shutdown_test.cc.
#include "broker/controlled_shutdown.h"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/error_code.h"
#include "protocol/generated/controlled_shutdown.h"
#include "protocol/header.h"
#include "rpc/fake_peer.h"

namespace sluice::broker {
namespace {

using namespace std::chrono_literals;
using protocol::ControlledShutdownRequest;
using protocol::ControlledShutdownResponse;
using protocol::ErrorCode;

struct Seen {
  protocol::RequestHeader header;
  ControlledShutdownRequest request;
};

// A controller that answers `answers` in turn on one connection, recording
// each request.
rpc::FakePeer::Script Answer(std::vector<ControlledShutdownResponse> answers,
                             std::vector<Seen>* seen) {
  return [answers = std::move(answers), seen](int fd) {
    for (const ControlledShutdownResponse& answer : answers) {
      std::vector<uint8_t> frame;
      if (!rpc::ReadFrame(fd, &frame)) return;
      protocol::Reader in(frame);
      Seen s;
      if (!protocol::DecodeRequestHeader(in, &s.header).ok()) return;
      if (!s.request.Decode(in, s.header.request_api_version).ok()) return;
      seen->push_back(s);
      const auto bytes = protocol::FlattenInMemory(protocol::EncodeResponseFrame(
          s.header.correlation_id, s.header.request_api_version, answer));
      if (!rpc::WriteAll(fd, bytes)) return;
    }
    rpc::ReadUntilClosed(fd);
  };
}

ControlledShutdownResponse Response(ErrorCode error,
                                    std::vector<std::pair<std::string, int32_t>> remaining = {}) {
  ControlledShutdownResponse r;
  r.error_code = protocol::ToWire(error);
  for (auto& [topic, partition] : remaining) {
    r.remaining_partitions.push_back({.topic_name = topic, .partition_index = partition});
  }
  return r;
}

TEST(ControlledShutdownRequestTest, RetriesUntilTheControllerLetsGoOfEveryPartition) {
  std::vector<Seen> seen;
  std::vector<ControlledShutdownOutcome> outcomes;
  {
    rpc::FakePeer controller(
        Answer({Response(ErrorCode::NOT_CONTROLLER),
                Response(ErrorCode::NONE, {{"t", 0}, {"t", 3}}), Response(ErrorCode::NONE)},
               &seen));
    std::vector<std::chrono::milliseconds> waits;
    int asked = 0;
    ControlledShutdownOptions o;
    o.broker_id = 7;
    o.max_attempts = 5;
    o.retry_backoff = 1234ms;
    // No controller known at first.
    o.controller = [&]() -> std::optional<interbroker::Endpoint> {
      if (asked++ == 0) return std::nullopt;
      return interbroker::Endpoint{"PLAINTEXT", "127.0.0.1", controller.port()};
    };
    o.wait = [&](std::chrono::milliseconds d) {
      waits.push_back(d);
      return true;
    };
    outcomes.push_back(RequestControlledShutdown(o));
    EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{1234ms, 1234ms, 1234ms}));
  }
  const ControlledShutdownOutcome& out = outcomes.front();
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.attempts, 4);
  EXPECT_TRUE(out.remaining.empty());
  EXPECT_TRUE(out.last_error.ok());
  // Three requests on one connection: NOT_CONTROLLER does not break it.
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].header.request_api_key, ControlledShutdownRequest::kApiKey);
    EXPECT_EQ(seen[i].header.request_api_version, 3);
    EXPECT_EQ(seen[i].header.correlation_id, static_cast<int32_t>(i));
    EXPECT_EQ(seen[i].request.broker_id, 7);
    EXPECT_EQ(seen[i].request.broker_epoch, -1);
  }
}

TEST(ControlledShutdownRequestTest, GivesUpAfterItsAttemptsWithWhatIsStillLed) {
  std::vector<Seen> seen;
  ControlledShutdownOutcome out;
  int waits = 0;
  {
    rpc::FakePeer controller(
        Answer({Response(ErrorCode::NONE, {{"solo", 1}}), Response(ErrorCode::NONE, {{"solo", 1}})},
               &seen));
    ControlledShutdownOptions o;
    o.broker_id = 2;
    o.max_attempts = 2;
    o.controller = [&]() -> std::optional<interbroker::Endpoint> {
      return interbroker::Endpoint{"PLAINTEXT", "127.0.0.1", controller.port()};
    };
    o.wait = [&](std::chrono::milliseconds) {
      ++waits;
      return true;
    };
    out = RequestControlledShutdown(o);
  }
  EXPECT_FALSE(out.done);
  EXPECT_EQ(out.attempts, 2);
  EXPECT_EQ(waits, 1);  // Not after the last attempt.
  EXPECT_EQ(out.remaining, (std::vector<std::pair<std::string, int32_t>>{{"solo", 1}}));
  EXPECT_FALSE(out.last_error.ok());
  EXPECT_EQ(seen.size(), 2u);

  // The last live broker has no one to hand over to: one answer is enough.
  std::vector<Seen> alone_seen;
  {
    rpc::FakePeer controller(Answer({Response(ErrorCode::NONE, {{"solo", 1}})}, &alone_seen));
    ControlledShutdownOptions o;
    o.max_attempts = 3;
    o.controller = [&]() -> std::optional<interbroker::Endpoint> {
      return interbroker::Endpoint{"PLAINTEXT", "127.0.0.1", controller.port()};
    };
    o.others_live = [] { return false; };
    o.wait = [](std::chrono::milliseconds) {
      ADD_FAILURE() << "no wait without another live broker";
      return true;
    };
    const ControlledShutdownOutcome last = RequestControlledShutdown(o);
    EXPECT_FALSE(last.done);
    EXPECT_EQ(last.attempts, 1);
  }
  EXPECT_EQ(alone_seen.size(), 1u);

  ControlledShutdownOptions none;
  none.max_attempts = 0;
  none.controller = []() -> std::optional<interbroker::Endpoint> {
    ADD_FAILURE() << "no attempt was allowed";
    return std::nullopt;
  };
  EXPECT_EQ(RequestControlledShutdown(none).attempts, 0);
}

// The stop signal (a second SIGTERM in the broker) ends the backoff at once
// and makes no further attempt.
TEST(ControlledShutdownRequestTest, TheStopSignalEndsTheBackoff) {
  auto stop = rpc::ShutdownSignal::Create();
  ASSERT_TRUE(stop.ok());
  std::thread firer;
  ControlledShutdownOptions o;
  o.max_attempts = 3;
  o.retry_backoff = std::chrono::hours(1);
  o.stop = *stop;
  o.controller = [&]() -> std::optional<interbroker::Endpoint> {
    if (!firer.joinable()) firer = std::thread([s = *stop] { s->Fire(); });
    return std::nullopt;
  };
  const ControlledShutdownOutcome out = RequestControlledShutdown(o);
  firer.join();
  EXPECT_FALSE(out.done);
  EXPECT_EQ(out.attempts, 1);
}

}  // namespace
}  // namespace sluice::broker
