#include "network/server.h"

#include <csignal>
#include <thread>

#include "network/acceptor_set.h"
#include "network/log.h"
#include "network/shard.h"

namespace sluice::network {

Server::Server(ServerOptions options, RequestHandler& handler)
    : options_(std::move(options)), handler_(handler) {
  if (options_.shards <= 0) {
    options_.shards = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  if (options_.max_inflight_requests == 0) options_.max_inflight_requests = 1;
}

Server::~Server() { Stop(std::chrono::milliseconds(0)); }

Status Server::Bind() {
  if (acceptors_) return Status::InvalidArgument("server already bound");
  for (int i = 0; i < options_.shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(i, options_, handler_, stats_));
  }
  acceptors_ = std::make_unique<AcceptorSet>(shards_, stats_);
  Status bound = acceptors_->Bind(options_.listeners, options_.listen_backlog);
  if (!bound.ok()) {
    acceptors_.reset();
    shards_.clear();
    return bound;
  }
  return Status::Ok();
}

Status Server::Start() {
  if (started_) return Status::InvalidArgument("server already started");
  // sendfile(2) has no MSG_NOSIGNAL: a peer that went away must not kill the
  // process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  if (!acceptors_) {
    Status bound = Bind();
    if (!bound.ok()) return bound;
  }
  for (auto& shard : shards_) shard->Start();
  acceptors_->Start();
  started_ = true;
  return Status::Ok();
}

void Server::Stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  acceptors_->Stop();
  for (auto& shard : shards_) shard->BeginDrain();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (open_connections() > 0) {
    Log().warn("closing {} connections still busy after the {} ms grace period",
               open_connections(), grace.count());
  }
  for (auto& shard : shards_) shard->StopAndJoin();
}

std::vector<uint16_t> Server::bound_ports() const {
  return acceptors_ ? acceptors_->bound_ports() : std::vector<uint16_t>{};
}

uint64_t Server::open_connections() const {
  uint64_t total = 0;
  for (const auto& shard : shards_) total += shard->connection_count();
  return total;
}

}  // namespace sluice::network
