// Connection: a blocking Kafka-protocol client connection, for a broker's
// calls to other brokers (the controller's LeaderAndIsr/UpdateMetadata/
// StopReplica, follower fetches, AlterPartition to the controller).
//
//   rpc::ConnectionOptions options{.client_id = "broker-1-fetcher"};
//   auto conn = rpc::Connection::Connect("10.0.0.2", 9092, options);
//   if (!conn.ok()) ...
//   auto reply = (*conn)->Call<FetchRequest, FetchResponse>(request, 12);
//   if (!reply.ok()) ... reconnect ...
//   for (auto& topic : (*reply)->responses) ...
//
// Threads. Calls block the calling thread until the answer, an error or the
// request timeout, so they belong on a broker's own dedicated threads, never
// on a network shard. One request is in flight at a time, and a Connection
// is used by one thread at a time; only Shutdown() (or firing the
// ShutdownSignal given in the options) may come from any thread, and makes a
// blocked Connect or Call return kAborted promptly.
//
// Failure. Any I/O error, timeout, shutdown or undecodable answer breaks the
// connection: the call that met it returns the error, and every later call
// returns the same Status at once without touching the socket (failure()
// says which kind). Nothing is retried here: the caller reconnects, and
// decides whether the request is safe to send again.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "protocol/api_registry.h"
#include "protocol/header.h"
#include "rpc/reply.h"
#include "rpc/shutdown_signal.h"
#include "rpc/socket.h"

namespace sluice::rpc {

struct ConnectionOptions {
  std::string client_id = "sluice-broker";
  std::chrono::milliseconds connect_timeout{10000};
  // For a whole Call: sending the request and reading the whole answer.
  std::chrono::milliseconds request_timeout{30000};
  // A larger response frame breaks the connection before any of it is
  // allocated (a corrupt or hostile size prefix must not cost 2 GiB).
  int32_t max_response_bytes = 100 * 1024 * 1024;
  // Shared with the owner's other connections so that one Fire() stops
  // them all, including connects not yet started; null: a signal of this
  // connection's own (Shutdown() fires it).
  std::shared_ptr<ShutdownSignal> shutdown;
};

class Connection {
 public:
  // Connects within options.connect_timeout (name resolution aside).
  // Errors: kIOError (unresolvable, refused, unreachable, timed out),
  // kInvalidArgument (a port outside 1-65535), kAborted (the options'
  // signal fired), or the errno of a failed socket call.
  static Result<std::unique_ptr<Connection>> Connect(const std::string& host, int32_t port,
                                                     ConnectionOptions options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `req` at `version` with the next correlation id and waits for its
  // response. REQUIRES: the peer supports `version` (ApiVersions said so);
  // records in `req` are in memory (views or owned), not file slices.
  // A version this build cannot encode is an InvalidArgument that leaves the
  // connection usable (nothing was sent). Errors that break the connection:
  // kIOError (I/O, timeout), kCorruption (a frame larger than
  // max_response_bytes, a wrong correlation id, an undecodable response),
  // kAborted (Shutdown).
  template <typename Req, typename Resp>
  Result<Reply<Resp>> Call(const Req& req, int16_t version);

  // Thread-safe: the Call in progress, or else the next one, returns
  // kAborted and breaks the connection; so does any Connect sharing the
  // options' signal.
  void Shutdown() { signal_->Fire(); }

  bool broken() const { return failure_ != Failure::kNone; }
  // Why the connection broke; kNone while it works.
  Failure failure() const { return failure_; }
  const std::string& peer() const { return socket_->peer(); }
  // The correlation id the next request will carry.
  int32_t next_correlation_id() const { return next_correlation_id_; }

 private:
  Connection(std::unique_ptr<Socket> socket, std::shared_ptr<ShutdownSignal> signal,
             ConnectionOptions options)
      : socket_(std::move(socket)), signal_(std::move(signal)), options_(std::move(options)) {}

  // Writes the size prefix and `request`, reads the response frame and
  // decodes its header (response header version `header_version`), checking
  // the correlation id. On success *frame holds the frame and *body_offset
  // where the body starts.
  Status Exchange(std::span<const uint8_t> request, int32_t correlation_id,
                  int16_t header_version, std::unique_ptr<uint8_t[]>* frame,
                  size_t* frame_size, size_t* body_offset);
  // Breaks the connection with `status` (of `kind`) and returns it.
  Status Break(Failure kind, Status status);

  const std::unique_ptr<Socket> socket_;
  const std::shared_ptr<ShutdownSignal> signal_;
  const ConnectionOptions options_;
  int32_t next_correlation_id_ = 0;
  Failure failure_ = Failure::kNone;
  Status broken_status_;  // What broke it; OK while failure_ is kNone.
};

template <typename Req, typename Resp>
Result<Reply<Resp>> Connection::Call(const Req& req, int16_t version) {
  static_assert(Req::kApiKey == Resp::kApiKey, "request and response of different APIs");
  if (broken()) return broken_status_;
  if (version < Req::kMinVersion || version > Req::kMaxVersion) {
    return Status::InvalidArgument(std::string(Req::kName) + " v" + std::to_string(version) +
                                   " is not a version this build speaks");
  }
  protocol::RequestHeader header;
  header.request_api_key = Req::kApiKey;
  header.request_api_version = version;
  header.correlation_id = next_correlation_id_;
  header.client_id = options_.client_id;
  // Wraps past INT32_MAX to 0 rather than overflowing (ids only need to
  // differ from the previous request's).
  next_correlation_id_ = next_correlation_id_ == INT32_MAX ? 0 : next_correlation_id_ + 1;
  const std::vector<uint8_t> request = protocol::EncodeRequest(header, req);

  std::unique_ptr<uint8_t[]> frame;
  size_t frame_size = 0;
  size_t body_offset = 0;
  SLUICE_RETURN_IF_ERROR(Exchange(request, header.correlation_id,
                                  protocol::ResponseHeaderVersion(Req::kApiKey, version), &frame,
                                  &frame_size, &body_offset));
  protocol::Reader in(std::span<const uint8_t>(frame.get() + body_offset, frame_size - body_offset));
  Resp body;
  Status s = body.Decode(in, version);
  if (!s.ok()) return Break(Failure::kProtocol, std::move(s));
  if (in.remaining() != 0) {
    return Break(Failure::kProtocol,
                 Status::Corruption(std::to_string(in.remaining()) + " bytes after the " +
                                    Resp::kName + " v" + std::to_string(version) + " from " +
                                    peer()));
  }
  return Reply<Resp>(std::move(frame), frame_size, std::move(body));
}

}  // namespace sluice::rpc
