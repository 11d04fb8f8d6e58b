// AcceptorSet: the listening sockets and the thread that accepts on them,
// handing each new connection to the next shard round-robin. Internal.
//
// Thread-safety: Bind, Start and Stop from the Server's controlling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <asio.hpp>

#include "base/status.h"
#include "network/server_options.h"

namespace sluice::network {

class Shard;
struct ServerStats;

class AcceptorSet {
 public:
  AcceptorSet(const std::vector<std::unique_ptr<Shard>>& shards, ServerStats& stats);
  ~AcceptorSet();

  Status Bind(const std::vector<ListenerSpec>& listeners, int backlog);
  void Start();
  void Stop();
  std::vector<uint16_t> bound_ports() const { return ports_; }

 private:
  void AcceptNext(size_t listener);

  asio::io_context io_;
  const std::vector<std::unique_ptr<Shard>>& shards_;
  ServerStats& stats_;
  std::vector<ListenerSpec> specs_;
  std::vector<asio::ip::tcp::acceptor> acceptors_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<asio::steady_timer>> retry_timers_;  // One per listener.
  std::thread thread_;
  size_t next_shard_ = 0;
  uint64_t next_id_ = 0;
  bool stopping_ = false;
};

}  // namespace sluice::network
