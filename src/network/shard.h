// Shard: one thread running one io_context, and the connections it owns.
//
// Thread-safety: Start, Adopt, BeginDrain, StopAndJoin and
// connection_count may be called from any thread (they post to the shard);
// everything else runs on the shard thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <asio.hpp>

#include "network/request_handler.h"
#include "network/server_options.h"

namespace sluice::network {

class Connection;
struct ServerStats;

class Shard {
 public:
  Shard(int index, const ServerOptions& options, RequestHandler& handler, ServerStats& stats);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void Start();
  // Takes over an accepted socket (created on context()).
  void Adopt(asio::ip::tcp::socket socket, uint64_t id, std::string listener);
  void BeginDrain();
  // Closes every connection, stops the loop and joins the thread.
  void StopAndJoin();

  asio::io_context& context() { return io_; }
  size_t connection_count() const { return count_.load(std::memory_order_relaxed); }

  // Shard thread only.
  int index() const { return index_; }
  const ServerOptions& options() const { return options_; }
  RequestHandler& handler() { return handler_; }
  ServerStats& stats() { return stats_; }
  std::span<uint8_t> scratch() { return scratch_; }
  void Remove(uint64_t id);

 private:
  void ScheduleSweep();
  void Sweep();
  void CloseAll();

  asio::io_context io_;  // First: outlives every socket and timer below.
  const int index_;
  const ServerOptions& options_;
  RequestHandler& handler_;
  ServerStats& stats_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::steady_timer sweep_timer_;
  std::vector<uint8_t> scratch_;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::atomic<size_t> count_{0};
  bool draining_ = false;
};

}  // namespace sluice::network
