#include "controller/zk_session.h"

#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>

namespace sluice::controller {

zk::ZkResult<std::unique_ptr<ZkSession>> ZkSession::Open(ZkSessionOptions options) {
  std::unique_ptr<ZkSession> session(new ZkSession(std::move(options)));
  auto client = session->Connect();
  if (!client.ok()) return client.error();
  {
    MutexLock lock(&session->mu_);
    session->client_ = std::move(*client);
    session->generation_ = 1;
    session->connected_ = true;
  }
  session->thread_ = std::thread([s = session.get()] { s->Run(); });
  return session;
}

ZkSession::~ZkSession() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  changed_.SignalAll();
  if (thread_.joinable()) thread_.join();
  std::shared_ptr<zk::ZkClient> last;
  {
    MutexLock lock(&mu_);
    last = std::move(client_);
  }
  // `last` closes here, outside the lock: closing waits for the client's
  // event thread, which may be in OnState wanting the lock.
}

zk::ZkResult<std::shared_ptr<zk::ZkClient>> ZkSession::Connect() {
  zk::ZkOptions o = options_.zk;
  o.on_session = [this](zk::SessionState s) { OnState(s); };
  auto client = zk::ZkClient::Connect(std::move(o));
  if (!client.ok()) return client.error();
  return std::shared_ptr<zk::ZkClient>(std::move(*client));
}

std::shared_ptr<zk::ZkClient> ZkSession::client() const {
  MutexLock lock(&mu_);
  return client_;
}

int ZkSession::generation() const {
  MutexLock lock(&mu_);
  return generation_;
}

bool ZkSession::connected() const {
  MutexLock lock(&mu_);
  return connected_;
}

void ZkSession::OnState(zk::SessionState state) {
  {
    MutexLock lock(&mu_);
    connected_ = state == zk::SessionState::kConnected;
    if (state != zk::SessionState::kExpired) return;
    expired_ = true;
  }
  changed_.SignalAll();
  if (options_.on_expired) options_.on_expired();
}

void ZkSession::Run() {
  MutexLock lock(&mu_);
  while (true) {
    while (!expired_ && !stopping_) changed_.Wait(&mu_);
    if (stopping_) return;
    expired_ = false;
    // The expired client stays in client_ until the new one replaces it:
    // a caller between the two gets a client whose calls fail (session
    // expired), never null.
    lock.Unlock();
    spdlog::warn("zookeeper session expired; starting a new one");
    std::shared_ptr<zk::ZkClient> fresh;
    while (!fresh) {
      auto made = Connect();
      if (made.ok()) {
        fresh = std::move(*made);
        break;
      }
      spdlog::warn("new zookeeper session: {}", made.error().message());
      MutexLock wait(&mu_);
      if (stopping_) return;
      // Connect already waited up to the connection timeout; a short pause
      // keeps a refusing ensemble from being hammered.
      changed_.WaitFor(&mu_, std::chrono::milliseconds(500));
      if (stopping_) return;
    }
    lock.Lock();
    if (stopping_) {
      lock.Unlock();  // `fresh` closes after this, without the lock (see ~ZkSession).
      return;
    }
    std::shared_ptr<zk::ZkClient> expired = std::exchange(client_, std::move(fresh));
    ++generation_;
    connected_ = true;
    lock.Unlock();
    expired.reset();  // Closed here, without the lock, never on its own event thread.
    if (options_.on_new_session) options_.on_new_session();
    lock.Lock();
  }
}

}  // namespace sluice::controller
