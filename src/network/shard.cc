#include "network/shard.h"

#include <algorithm>

#include "network/connection.h"
#include "network/log.h"
#include "network/server.h"

namespace sluice::network {

namespace {
// One read buffer per shard, shared by its connections: an idle connection
// owns no buffer at all.
constexpr size_t kScratchBytes = 64 * 1024;
}  // namespace

Shard::Shard(int index, const ServerOptions& options, RequestHandler& handler, ServerStats& stats)
    : index_(index),
      options_(options),
      handler_(handler),
      stats_(stats),
      sweep_timer_(io_),
      scratch_(kScratchBytes) {}

Shard::~Shard() { StopAndJoin(); }

void Shard::Start() {
  work_.emplace(io_.get_executor());
  ScheduleSweep();
  thread_ = std::thread([this] {
    try {
      io_.run();
    } catch (const std::exception& e) {
      Log().critical("shard {} event loop failed: {}", index_, e.what());
      std::terminate();
    }
  });
}

void Shard::Adopt(asio::ip::tcp::socket socket, uint64_t id, std::string listener) {
  asio::post(io_, [this, socket = std::move(socket), id, listener = std::move(listener)]() mutable {
    std::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec || draining_) {
      socket.close(ec);
      stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto connection = std::make_shared<Connection>(
        *this, std::move(socket),
        ConnectionContext(id, index_, peer.address().to_string(), peer.port(), listener));
    connections_.emplace(id, connection);
    count_.fetch_add(1, std::memory_order_relaxed);
    connection->Start();
  });
}

void Shard::Remove(uint64_t id) {
  if (connections_.erase(id) > 0) count_.fetch_sub(1, std::memory_order_relaxed);
}

void Shard::ScheduleSweep() {
  // Check a few times per idle period, at most once a second.
  auto interval = std::clamp<std::chrono::milliseconds>(
      options_.idle_timeout / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
  sweep_timer_.expires_after(interval);
  sweep_timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    Sweep();
    ScheduleSweep();
  });
}

void Shard::Sweep() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(connections_.size());
  for (auto& [id, connection] : connections_) all.push_back(connection);
  for (auto& connection : all) connection->CheckIdle(now);
}

void Shard::BeginDrain() {
  asio::post(io_, [this] {
    draining_ = true;
    std::vector<std::shared_ptr<Connection>> all;
    for (auto& [id, connection] : connections_) all.push_back(connection);
    for (auto& connection : all) connection->BeginDrain();
  });
}

void Shard::CloseAll() {
  draining_ = true;
  sweep_timer_.cancel();
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [id, connection] : connections_) all.push_back(connection);
  for (auto& connection : all) connection->Close("server stopped");
  connections_.clear();
  count_.store(0, std::memory_order_relaxed);
}

void Shard::StopAndJoin() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    CloseAll();
    io_.stop();
  });
  thread_.join();
  work_.reset();
}

}  // namespace sluice::network
