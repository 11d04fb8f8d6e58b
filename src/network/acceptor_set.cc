#include "network/acceptor_set.h"

#include <fmt/format.h>

#include "network/log.h"
#include "network/server.h"
#include "network/shard.h"

namespace sluice::network {

AcceptorSet::AcceptorSet(const std::vector<std::unique_ptr<Shard>>& shards, ServerStats& stats)
    : shards_(shards), stats_(stats) {}

AcceptorSet::~AcceptorSet() { Stop(); }

Status AcceptorSet::Bind(const std::vector<ListenerSpec>& listeners, int backlog) {
  for (const ListenerSpec& spec : listeners) {
    std::error_code ec;
    asio::ip::tcp::resolver resolver(io_);
    const std::string host = spec.host.empty() ? "0.0.0.0" : spec.host;
    auto results = resolver.resolve(host, std::to_string(spec.port),
                                    asio::ip::tcp::resolver::passive |
                                        asio::ip::tcp::resolver::numeric_service,
                                    ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument(
          fmt::format("listener {}: cannot resolve host '{}': {}", spec.name, host, ec.message()));
    }
    const asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
    asio::ip::tcp::acceptor acceptor(io_);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(backlog, ec);
    if (!ec) acceptor.non_blocking(true, ec);
    if (ec) {
      return Status::IOError(fmt::format("listener {}://{}:{}: cannot listen: {}", spec.name,
                                         host, spec.port, ec.message()));
    }
    ports_.push_back(acceptor.local_endpoint().port());
    acceptors_.push_back(std::move(acceptor));
    retry_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
    specs_.push_back(spec);
  }
  return Status::Ok();
}

void AcceptorSet::Start() {
  for (size_t i = 0; i < acceptors_.size(); ++i) AcceptNext(i);
  thread_ = std::thread([this] { io_.run(); });
}

void AcceptorSet::AcceptNext(size_t listener) {
  Shard& shard = *shards_[next_shard_++ % shards_.size()];
  acceptors_[listener].async_accept(
      shard.context(), [this, listener, &shard](const std::error_code& ec,
                                                asio::ip::tcp::socket socket) {
        if (stopping_ || ec == asio::error::operation_aborted) return;
        if (ec) {
          // Typically EMFILE/ENFILE: back off instead of spinning.
          Log().warn("accept on listener {} failed: {}", specs_[listener].name, ec.message());
          asio::steady_timer& timer = *retry_timers_[listener];
          timer.expires_after(std::chrono::milliseconds(100));
          timer.async_wait([this, listener](const std::error_code& timer_ec) {
            if (!timer_ec && !stopping_) AcceptNext(listener);
          });
          return;
        }
        stats_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
        shard.Adopt(std::move(socket), ++next_id_, specs_[listener].name);
        AcceptNext(listener);
      });
}

void AcceptorSet::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    stopping_ = true;
    for (auto& timer : retry_timers_) timer->cancel();
    for (auto& acceptor : acceptors_) {
      std::error_code ignored;
      acceptor.close(ignored);
    }
    io_.stop();
  });
  thread_.join();
}

}  // namespace sluice::network
