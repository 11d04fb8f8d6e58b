// EventLoop: one thread that runs posted events in order.
//
// The controller's decisions all run here, one at a time (as Kafka's
// controller runs its event queue), so its state needs no lock of its own
// and ZooKeeper watches, session changes and requests reach it as events.
// Post() is thread-safe and never blocks on an event; events must not wait
// for each other.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "base/mutex.h"

namespace sluice::controller {

class EventLoop {
 public:
  explicit EventLoop(std::string name);
  ~EventLoop();  // Stop().
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Queues `event`; false (and dropped) once the loop is stopping.
  bool Post(std::function<void()> event) EXCLUDES(mu_);
  // Runs the events already queued, then ends the thread; later posts are
  // dropped. Idempotent. REQUIRES: not called from the loop's own thread.
  void Stop() EXCLUDES(mu_);
  bool OnLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void Run() EXCLUDES(mu_);

  const std::string name_;
  Mutex mu_;
  CondVar wake_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice::controller
