// The interface between the network server and the rest of the broker.
//
// The server reads frames and calls RequestHandler::Handle on the shard
// thread that owns the connection. The handler answers through the Responder,
// now or later, from any thread; the connection writes answers strictly in
// request order whatever order they are given in.
#pragma once

#include <any>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>

#include "base/output_chain.h"
#include "network/frame.h"

namespace sluice::network {

// What a handler knows about the connection a request came on. Owned by the
// connection; valid until OnConnectionClosed returns. Not thread-safe: touch
// it only on the connection's shard thread (i.e. inside Handle and the
// On* callbacks); copy out what is needed elsewhere.
class ConnectionContext {
 public:
  ConnectionContext(uint64_t id, int shard, std::string peer_address, uint16_t peer_port,
                    std::string listener)
      : id_(id), shard_(shard), peer_address_(std::move(peer_address)), peer_port_(peer_port),
        listener_(std::move(listener)) {}

  uint64_t id() const { return id_; }                   // Unique per server run.
  int shard() const { return shard_; }                  // Index of the owning shard.
  const std::string& peer_address() const { return peer_address_; }
  uint16_t peer_port() const { return peer_port_; }
  const std::string& listener() const { return listener_; }  // e.g. "PLAINTEXT".

  // Per-connection state for the handler (client id, fetch session, SASL
  // state, ...). The network layer never looks inside.
  std::any& state() { return state_; }

 private:
  const uint64_t id_;
  const int shard_;
  const std::string peer_address_;
  const uint16_t peer_port_;
  const std::string listener_;
  std::any state_;
};

// The answer to one request.
struct Response {
  enum class Kind { kSend, kNoResponse, kClose, kBuildInTurn };
  Kind kind = Kind::kSend;
  OutputChain body;    // kSend: the response without its length prefix.
  std::string reason;  // kClose: logged.
  // kBuildInTurn: makes the body, on the connection's shard thread, once
  // every earlier response of the connection is queued for writing.
  std::function<OutputChain()> build;
};

namespace detail {
// Implemented by the connection. Deliver may be called from any thread.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void Deliver(uint64_t sequence, Response response) = 0;
};
}  // namespace detail

// Move-only, single-shot: answers one request. Thread-safe to call from any
// thread (the answer is posted to the connection's shard). If the connection
// is already gone the answer is dropped. A Responder destroyed without being
// used closes the connection (a handler bug must not stall the connection).
// Must be used or destroyed before the Server is destroyed.
class Responder {
 public:
  Responder() = default;
  Responder(std::weak_ptr<detail::ResponseSink> sink, uint64_t sequence)
      : sink_(std::move(sink)), sequence_(sequence), pending_(true) {}
  Responder(Responder&& other) noexcept { *this = std::move(other); }
  Responder& operator=(Responder&& other) noexcept {
    if (this != &other) {
      Abandon();
      sink_ = std::move(other.sink_);
      sequence_ = other.sequence_;
      pending_ = other.pending_;
      other.pending_ = false;
    }
    return *this;
  }
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder() { Abandon(); }

  // Sends `response` (without length prefix; the connection adds it).
  void operator()(OutputChain response) { Send(std::move(response)); }
  void Send(OutputChain response) {
    Finish(Response{Response::Kind::kSend, std::move(response), {}});
  }
  // Sends the response `build` makes when its turn comes: on the
  // connection's shard thread, once every earlier request of the connection
  // is answered. For answers that describe the state of things (Metadata):
  // built now, one would wait behind a slower earlier answer (an acks=all
  // produce waiting for its followers) and be stale when written. A
  // Kafka broker reads a connection's next request only after answering
  // the last, so its answers are never older than that. `build` must not
  // block, and must not use anything that may be gone by then.
  void SendInTurn(std::function<OutputChain()> build) {
    Finish(Response{Response::Kind::kBuildInTurn, {}, {}, std::move(build)});
  }
  // The request has no response (produce with acks=0); order is still kept.
  void NoResponse() { Finish(Response{Response::Kind::kNoResponse, {}, {}}); }
  // Closes the connection once every earlier response has been written.
  void CloseConnection(std::string reason) {
    Finish(Response{Response::Kind::kClose, {}, std::move(reason)});
  }

  bool pending() const { return pending_; }

 private:
  void Finish(Response response) {
    if (!pending_) return;
    pending_ = false;
    if (auto sink = sink_.lock()) sink->Deliver(sequence_, std::move(response));
  }
  void Abandon() {
    if (pending_) CloseConnection("request handler dropped the responder");
  }

  std::weak_ptr<detail::ResponseSink> sink_;
  uint64_t sequence_ = 0;
  bool pending_ = false;
};

// Implemented by the broker. Handle runs on the connection's shard thread and
// must not block: long work goes elsewhere and answers through the Responder.
// One RequestHandler serves every shard, so it must be thread-safe.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void Handle(ConnectionContext& connection, Frame request, Responder respond) = 0;
  virtual void OnConnectionOpened(ConnectionContext& /*connection*/) {}
  virtual void OnConnectionClosed(ConnectionContext& /*connection*/) {}
};

}  // namespace sluice::network
