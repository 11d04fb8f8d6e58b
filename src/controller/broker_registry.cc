#include "controller/broker_registry.h"

#include <charconv>
#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sluice::controller {

using zk::ZkCode;

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

BrokerRegistry::BrokerRegistry(ZkSession* session, EventLoop* loop, RegistryOptions options)
    : session_(session), loop_(loop), options_(std::move(options)) {}

zk::ZkResult<std::string> BrokerRegistry::EnsureClusterId(zk::ZkClient& zk,
                                                          const std::string& proposed) {
  auto existing = zk.Get(zk::kClusterIdPath);
  if (existing.code() == ZkCode::kNoNode) {
    zk::ZkError parent = zk.CreateRecursive("/cluster");
    if (!parent.ok()) return parent;
    auto made = zk.Create(zk::kClusterIdPath, zk::EncodeClusterId(proposed),
                          zk::CreateMode::kPersistent);
    if (made.ok()) return proposed;
    if (made.code() != ZkCode::kNodeExists) return made.error();
    existing = zk.Get(zk::kClusterIdPath);  // Another broker was first.
  }
  if (!existing.ok()) return existing.error();
  auto id = zk::DecodeClusterId(existing->data);
  if (!id.ok()) return zk::ZkError(ZkCode::kOther, id.status().message());
  return *id;
}

zk::ZkError BrokerRegistry::Register() {
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  zk::ZkError parent = zk->CreateRecursive(zk::kBrokerIdsPath);
  if (!parent.ok()) return parent;
  zk::BrokerRegistration self = options_.self;
  self.timestamp_ms = options_.clock ? options_.clock() : 0;
  const std::string path = zk::BrokerPath(self.id);
  const std::string data = zk::EncodeBroker(self);
  // A previous process's node goes when its session expires: wait for that,
  // a little longer than the session timeout.
  const int64_t deadline = SteadyMs() + options_.session_timeout_ms + 2000;
  while (true) {
    auto made = zk->Create(path, data, zk::CreateMode::kEphemeral);
    if (made.ok()) {
      spdlog::info("registered broker {} at {}", self.id, path);
      return zk::ZkError();
    }
    if (made.code() != ZkCode::kNodeExists) return made.error();
    auto owner = zk->Exists(path);
    if (owner.ok() && owner->has_value() && (*owner)->ephemeral_owner == zk->session_id()) {
      return zk::ZkError();  // Ours already (a retried create).
    }
    if (SteadyMs() > deadline) {
      return zk::ZkError(ZkCode::kNodeExists,
                         fmt::format("{} is held by session {:#x}: another live broker has id {}",
                                     path, owner.ok() && owner->has_value()
                                               ? (*owner)->ephemeral_owner : 0,
                                     self.id));
    }
    spdlog::info("{} still held by a previous session; waiting for it to expire", path);
    // Woken by the node's deletion; re-checked at least once a second. The
    // watch may fire after this wait has ended, so it shares its state.
    struct Wait {
      Mutex mu;
      CondVar gone;
      bool fired GUARDED_BY(mu) = false;
    };
    auto wait = std::make_shared<Wait>();
    auto watched = zk->Exists(path, [wait](zk::WatchEvent, const std::string&) {
      MutexLock lock(&wait->mu);
      wait->fired = true;
      wait->gone.Signal();
    });
    MutexLock lock(&wait->mu);
    if (watched.ok() && watched->has_value() && !wait->fired) {
      wait->gone.WaitFor(&wait->mu, std::chrono::milliseconds(1000));
    }
  }
}

void BrokerRegistry::Start() {
  loop_->Post([this] { Refresh(); });
}

void BrokerRegistry::OnNewSession() {
  loop_->Post([this] {
    zk::ZkError e = Register();
    if (!e.ok()) spdlog::error("re-registering broker {}: {}", options_.self.id, e.message());
    Refresh();
  });
}

void BrokerRegistry::Refresh() {
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  auto ids = zk->GetChildren(zk::kBrokerIdsPath, [this](zk::WatchEvent e, const std::string&) {
    if (e != zk::WatchEvent::kSessionEnded) loop_->Post([this] { Refresh(); });
  });
  if (!ids.ok()) {
    spdlog::warn("reading live brokers: {}", ids.error().message());
    return;
  }
  std::map<int32_t, zk::BrokerRegistration> live;
  for (const std::string& name : *ids) {
    int32_t id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec != std::errc() || end != name.data() + name.size()) continue;
    auto node = zk->Get(zk::BrokerPath(id));
    if (!node.ok()) continue;  // Gone meanwhile: the watch brings another refresh.
    auto b = zk::DecodeBroker(id, node->data);
    if (!b.ok()) {
      spdlog::warn("ignoring broker {}: {}", id, b.status().message());
      continue;
    }
    live.emplace(id, std::move(*b));
  }
  {
    MutexLock lock(&mu_);
    live_ = live;
  }
  if (options_.on_change) options_.on_change(live);
}

std::map<int32_t, zk::BrokerRegistration> BrokerRegistry::live_brokers() const {
  MutexLock lock(&mu_);
  return live_;
}

}  // namespace sluice::controller
