// FakeBroker: a loopback socket that plays a broker receiving the
// controller's requests. It accepts one connection after another (the
// channel reconnects), reads real Kafka frames, decodes each request with
// the generated decoders (and FromWire) and records it, then does what the
// test's policy says: answer with a well-formed response, close the
// connection without answering, or never answer.
//
// The port is bound at construction; with listen=false nothing accepts on it
// (connects are refused) until Listen(), so a test can start a channel
// against a broker that is down and bring it up later at the same address.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "controller/controller_channel.h"

namespace sluice::interbroker {

struct ReceivedRequest {
  int connection = 0;  // 1 for the first connection accepted, and so on
  int16_t api_key = -1;
  int16_t api_version = -1;
  int32_t correlation_id = -1;
  std::string client_id;
  // The one for api_key, decoded and converted back (FromWire, listener
  // "INTERNAL").
  std::optional<controller::LeaderAndIsrRequest> leader_and_isr;
  std::optional<controller::UpdateMetadataRequest> update_metadata;
  std::optional<controller::StopReplicaRequest> stop_replica;
  // Its controller epoch, which tests use to number their requests.
  int32_t controller_epoch = -1;
};

class FakeBroker {
 public:
  enum class Action {
    kAnswer,       // a response with error code 0 everywhere
    kAnswerError,  // a response with STALE_CONTROLLER_EPOCH at the top
    kClose,        // close the connection without answering
    kNeverAnswer,  // keep the connection, read and ignore until it closes
  };
  // Decides for the n-th request received (0-based, over all connections).
  using Policy = std::function<Action(size_t n, const ReceivedRequest&)>;

  explicit FakeBroker(Policy policy = nullptr, bool listen = true);
  ~FakeBroker();  // Stop().
  FakeBroker(const FakeBroker&) = delete;
  FakeBroker& operator=(const FakeBroker&) = delete;

  void Listen();
  // Ends the accept thread and closes any connection.
  void Stop() EXCLUDES(mu_);

  int32_t port() const { return port_; }
  // "<listener>://127.0.0.1:<port>"
  std::string endpoint(const std::string& listener = "INTERNAL") const;

  std::vector<ReceivedRequest> received() const EXCLUDES(mu_);
  int connections() const EXCLUDES(mu_);
  // How many connections the client has closed (seen as end of stream).
  int closed_by_client() const EXCLUDES(mu_);
  // Waits until `n` requests were received; false after `timeout`.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30))
      EXCLUDES(mu_);
  bool WaitForClientClose(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30))
      EXCLUDES(mu_);

 private:
  void AcceptLoop();
  void Serve(int fd, int connection);
  // Reads and decodes one request; false when the client closed or sent
  // something undecodable (which fails the test).
  bool ReadRequest(int fd, int connection, ReceivedRequest* out);
  void Answer(int fd, const ReceivedRequest& request, int16_t error_code);

  const Policy policy_;
  int listen_fd_ = -1;
  int32_t port_ = 0;
  std::thread thread_;

  mutable Mutex mu_;
  CondVar changed_;
  std::vector<ReceivedRequest> received_ GUARDED_BY(mu_);
  int connections_ GUARDED_BY(mu_) = 0;
  int closed_by_client_ GUARDED_BY(mu_) = 0;
  int conn_fd_ GUARDED_BY(mu_) = -1;  // The connection being served.
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace sluice::interbroker
