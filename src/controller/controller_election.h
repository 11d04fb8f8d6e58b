// ControllerElection: which broker is the controller, through ZooKeeper.
//
// Kafka's ZooKeeper-mode rules: the controller is the broker whose id is in
// the ephemeral /controller znode. A broker that finds it missing tries to
// create it and, in the same ZooKeeper transaction, to raise
// /controller_epoch by one (a conditional write on the version it read), so
// two brokers can never both win one epoch. Every broker watches /controller
// and runs again when it goes (the controller's session ended). The winner
// learns the epoch and the znode version of /controller_epoch; each later
// controller write carries EpochCheck() in its transaction, so a controller
// that was deposed while it was not looking (a long GC pause, a partition
// from ZooKeeper) has its writes refused instead of applied.
//
// A broker whose session expires resigns at once (its /controller node is
// gone, so another may already be in charge) and runs for election again
// once ZkSession has a new session.
//
// Threads: everything runs on the owner's EventLoop; the accessors are
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "base/mutex.h"
#include "controller/event_loop.h"
#include "controller/zk_session.h"
#include "zk/zk_client.h"

namespace sluice::controller {

struct ControllerEpoch {
  int32_t epoch = 0;       // what requests and partition states carry
  int32_t zk_version = 0;  // /controller_epoch's version: what EpochCheck compares
};

struct ElectionOptions {
  int32_t broker_id = -1;
  // On the event loop, when this broker becomes the controller / stops being it.
  std::function<void(ControllerEpoch)> on_elected;
  std::function<void()> on_resigned;
  // Wall-clock ms for the /controller timestamp.
  std::function<int64_t()> clock;
};

class ControllerElection {
 public:
  ControllerElection(ZkSession* session, EventLoop* loop, ElectionOptions options);

  // Runs the first election (on the loop).
  void Start();
  // ZkSession's callbacks: forward them here.
  void OnSessionExpired();
  void OnNewSession();
  // At shutdown (on the loop): resigns if this broker leads, and runs for
  // election no more. /controller itself goes when the session closes.
  void Shutdown();

  // The last controller this broker saw (-1: none known).
  int32_t active_controller() const EXCLUDES(mu_);
  bool is_controller() const EXCLUDES(mu_);
  // This broker's controller epoch; meaningful while is_controller().
  ControllerEpoch epoch() const EXCLUDES(mu_);
  // A check that /controller_epoch still has the version this controller
  // wrote: put it first in every controller transaction.
  zk::ZkOp EpochCheck() const EXCLUDES(mu_);

 private:
  // On the loop thread.
  void Elect();
  void Resign();
  // Reads /controller and re-arms the watch on it; -1 if there is none.
  int32_t WatchController(zk::ZkClient& zk);
  // One attempt at the create-and-bump transaction.
  zk::ZkError TryToWin(zk::ZkClient& zk, ControllerEpoch* won);

  ZkSession* const session_;
  EventLoop* const loop_;
  const ElectionOptions options_;

  // Loop thread only.
  bool watch_armed_ = false;  // a watch on /controller is set
  bool shut_down_ = false;    // Shutdown() ran: no more elections

  mutable Mutex mu_;
  int32_t active_ GUARDED_BY(mu_) = -1;
  bool leading_ GUARDED_BY(mu_) = false;
  ControllerEpoch epoch_ GUARDED_BY(mu_);
};

}  // namespace sluice::controller
