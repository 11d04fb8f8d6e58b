#include "controller/controller_election.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "zk/znodes.h"

namespace sluice::controller {

using zk::ZkCode;

ControllerElection::ControllerElection(ZkSession* session, EventLoop* loop,
                                       ElectionOptions options)
    : session_(session), loop_(loop), options_(std::move(options)) {}

void ControllerElection::Start() {
  loop_->Post([this] { Elect(); });
}

void ControllerElection::OnSessionExpired() {
  loop_->Post([this] { Resign(); });
}

void ControllerElection::OnNewSession() {
  loop_->Post([this] { Elect(); });
}

void ControllerElection::Shutdown() {
  loop_->Post([this] {
    shut_down_ = true;
    Resign();
  });
}

int32_t ControllerElection::active_controller() const {
  MutexLock lock(&mu_);
  return active_;
}

bool ControllerElection::is_controller() const {
  MutexLock lock(&mu_);
  return leading_;
}

ControllerEpoch ControllerElection::epoch() const {
  MutexLock lock(&mu_);
  return epoch_;
}

zk::ZkOp ControllerElection::EpochCheck() const {
  MutexLock lock(&mu_);
  return zk::ZkOp::Check(zk::kControllerEpochPath, epoch_.zk_version);
}

int32_t ControllerElection::WatchController(zk::ZkClient& zk) {
  // One watch at a time: each firing posts one Elect, which arms the next.
  zk::Watcher watch;
  if (!watch_armed_) {
    watch_armed_ = true;
    watch = [this](zk::WatchEvent e, const std::string&) {
      loop_->Post([this, e] {
        watch_armed_ = false;
        // A change or a deletion means: look again. A session's end is
        // handled by OnNewSession.
        if (e != zk::WatchEvent::kSessionEnded) Elect();
      });
    };
  }
  auto node = zk.Get(zk::kControllerPath, watch);
  if (node.ok()) {
    auto c = zk::DecodeController(node->data);
    return c.ok() ? c->broker_id : -1;
  }
  if (node.code() == ZkCode::kNoNode && watch) {
    // Get leaves no watch on a missing node: watch for its creation instead.
    auto exists = zk.Exists(zk::kControllerPath, watch);
    if (exists.ok()) {
      if (!exists->has_value()) return -1;
      // Created meanwhile: the exists watch now watches it; read it plainly.
      auto created = zk.Get(zk::kControllerPath);
      if (!created.ok()) return -1;
      auto c = zk::DecodeController(created->data);
      return c.ok() ? c->broker_id : -1;
    }
  }
  if (watch) watch_armed_ = false;  // The failed call left no watch behind.
  return -1;
}

zk::ZkError ControllerElection::TryToWin(zk::ZkClient& zk, ControllerEpoch* won) {
  auto current = zk.Get(zk::kControllerEpochPath);
  int32_t epoch = 0;
  int32_t version = -1;
  if (current.ok()) {
    auto parsed = zk::DecodeControllerEpoch(current->data);
    if (!parsed.ok()) return zk::ZkError(ZkCode::kOther, parsed.status().message());
    epoch = *parsed;
    version = current->stat.version;
  } else if (current.code() == ZkCode::kNoNode) {
    // The first controller of the cluster: create the epoch node at 0.
    auto made = zk.Create(zk::kControllerEpochPath, zk::EncodeControllerEpoch(0),
                          zk::CreateMode::kPersistent);
    if (!made.ok() && made.code() != ZkCode::kNodeExists) return made.error();
    return TryToWin(zk, won);
  } else {
    return current.error();
  }
  const int64_t now = options_.clock ? options_.clock() : 0;
  zk::ZkError e = zk.Multi(
      {zk::ZkOp::Create(zk::kControllerPath,
                        zk::EncodeController({options_.broker_id, now}),
                        zk::CreateMode::kEphemeral),
       zk::ZkOp::Set(zk::kControllerEpochPath, zk::EncodeControllerEpoch(epoch + 1), version)});
  if (e.ok()) *won = ControllerEpoch{epoch + 1, version + 1};
  return e;
}

void ControllerElection::Elect() {
  if (shut_down_) return;
  std::shared_ptr<zk::ZkClient> zk = session_->client();
  if (zk->state() == zk::SessionState::kExpired) return;  // OnNewSession runs us again.
  int32_t active = WatchController(*zk);
  {
    MutexLock lock(&mu_);
    active_ = active;
  }
  if (active == options_.broker_id) return;  // Still ours: nothing changed.
  Resign();  // If this broker led, it no longer does.
  if (active != -1) return;  // Another broker leads; the watch tells us when that ends.

  ControllerEpoch won;
  zk::ZkError e = TryToWin(*zk, &won);
  if (e.ok()) {
    {
      MutexLock lock(&mu_);
      leading_ = true;
      active_ = options_.broker_id;
      epoch_ = won;
    }
    spdlog::info("broker {} is the controller, epoch {}", options_.broker_id, won.epoch);
    if (options_.on_elected) options_.on_elected(won);
    return;
  }
  if (e.code() == ZkCode::kNodeExists || e.code() == ZkCode::kBadVersion) {
    // Another broker won this round (or is between its two writes): look again.
    loop_->Post([this] { Elect(); });
    return;
  }
  spdlog::warn("controller election: {}", e.message());
}

void ControllerElection::Resign() {
  bool was_leading = false;
  {
    MutexLock lock(&mu_);
    was_leading = leading_;
    leading_ = false;
    if (active_ == options_.broker_id) active_ = -1;
  }
  if (!was_leading) return;
  spdlog::info("broker {} resigns as controller", options_.broker_id);
  if (options_.on_resigned) options_.on_resigned();
}

}  // namespace sluice::controller
