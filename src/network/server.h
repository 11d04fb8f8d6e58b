// Server: the broker's TCP front end.
//
// Threading model
// ---------------
// * Shards. The server runs N shards (ServerOptions::shards, default one per
//   core). A shard is one thread running one asio::io_context. Everything a
//   connection does -- reading, decoding frames, calling the RequestHandler,
//   ordering and writing responses, idle checks -- happens on its shard's
//   thread, so a connection's state needs no lock.
// * Acceptor. One extra thread runs the listening sockets. Each accepted
//   socket is created on the io_context of the next shard, round-robin, and
//   the connection is then posted to that shard, where it stays for its whole
//   life. There is no global lock on the request path; shards share only
//   relaxed atomic counters (ServerStats).
// * Handlers. RequestHandler::Handle runs on the shard thread and must not
//   block. It may answer inline or later from any thread: the Responder posts
//   the answer to the connection's shard.
// * Framing. 4-byte big-endian length, then the request. The length is
//   checked against socket.request.max.bytes before any allocation; a
//   negative or oversized length closes the connection.
// * Pipelining and order. A connection keeps reading and dispatching while
//   earlier requests are in flight; each request takes a sequence number and
//   responses are written strictly in that order, whatever order handlers
//   finish in. "No response" (acks=0) holds its place in the order too.
// * Back-pressure. A connection stops reading its socket while it has
//   max_inflight_requests requests awaiting an answer, or while
//   max_queued_write_bytes of responses await writing (a slow reader).
//   It resumes when below both; the kernel's socket buffers then push back on
//   the client. Nothing is buffered without bound.
// * Writing. Consecutive in-memory buffers (across responses) go out in one
//   writev; FileSlices go out with sendfile(2) from the file to the socket.
//   The socket is non-blocking: on EAGAIN the connection waits for
//   writability (async_wait) and continues.
// * Idle connections. An idle connection holds no read buffer (reads go
//   through one scratch buffer per shard) and no timer: each shard sweeps its
//   connections periodically and closes those with no traffic and nothing in
//   flight for connections.max.idle.ms.
// * Stop. Stop() closes the listeners, then every connection stops reading,
//   finishes its in-flight requests, writes their responses and closes; after
//   the grace period the remaining connections are closed and the threads
//   joined.
//
// Thread-safety: Start/Stop/~Server from one controlling thread; stats() and
// bound_ports() from any thread after Bind or Start.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/status.h"
#include "network/request_handler.h"
#include "network/server_options.h"

namespace sluice::network {

// Counters for tests and metrics; relaxed atomics, summed over shards.
struct ServerStats {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> requests_received{0};
  std::atomic<uint64_t> frames_rejected{0};       // Bad length prefix.
  std::atomic<uint64_t> frame_bytes_allocated{0};  // Request bodies allocated.
  std::atomic<uint64_t> bytes_sent_sendfile{0};
  std::atomic<uint64_t> read_pauses{0};           // Back-pressure engaged.
};

class Shard;
class AcceptorSet;

class Server {
 public:
  // `handler` must outlive the server.
  Server(ServerOptions options, RequestHandler& handler);
  ~Server();  // Stops with a zero grace period if still running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener without accepting yet, so that the owner can learn
  // the ports (bound_ports) and finish what handlers will read before any
  // request arrives. Fails if a bind fails. Optional: Start binds if needed.
  Status Bind();
  // Binds (unless Bind did) and starts the threads: connections are
  // accepted and served from here on.
  Status Start();
  // Graceful stop; see the threading model. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // The actual port of each listener, in ServerOptions::listeners order
  // (useful with port 0).
  std::vector<uint16_t> bound_ports() const;
  int shard_count() const { return static_cast<int>(shards_.size()); }
  const ServerStats& stats() const { return stats_; }
  // Open connections over all shards.
  uint64_t open_connections() const;

 private:
  ServerOptions options_;
  RequestHandler& handler_;
  ServerStats stats_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<AcceptorSet> acceptors_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace sluice::network
