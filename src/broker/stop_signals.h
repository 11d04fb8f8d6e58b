// StopSignals: SIGINT and SIGTERM, read by a thread of their own.
//
// The signals are blocked in every thread of the broker and read from a
// signalfd, instead of caught by a handler (asio::signal_set did that
// before). With a handler the kernel interrupts whichever thread it picks,
// and under ThreadSanitizer (clang 14), whose runtime defers a signal to the
// interrupted thread's next intercepted call, a SIGTERM sent to an idle
// broker was now and then never handled at all. A blocked signal stays
// pending until it is read, so none is lost and no thread is interrupted.
//
// Until Serving(), a signal ends the process at once, as the default action
// did before any handler was installed: nothing serves yet, and the data on
// disk is as safe as after kill -9. From Serving() on, signals are queued for
// Await(), or passed to the handler set with OnSignal().
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace sluice::broker {

class StopSignals {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
  // it starts later, and starts the reading thread.
  // REQUIRES: no other thread of the process runs yet (one started earlier
  // would still take the signals, and their default action would kill the
  // process).
  static Result<std::unique_ptr<StopSignals>> Start();
  ~StopSignals();  // Stops and joins the reading thread.
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // From now on signals are kept for Await() instead of ending the process.
  void Serving() EXCLUDES(mu_);
  // Waits for the first signal not yet awaited; returns its number.
  int Await() EXCLUDES(mu_);
  // Each later signal calls `handler(signal_number)` on the reading thread
  // instead of being kept for Await(); nullptr goes back to keeping them.
  void OnSignal(std::function<void(int)> handler) EXCLUDES(mu_);

 private:
  StopSignals(int signal_fd, int wake_fd);
  void Run() EXCLUDES(mu_);
  void Deliver(int signal_number) EXCLUDES(mu_);

  const int signal_fd_;  // A signalfd for SIGINT and SIGTERM.
  const int wake_fd_;    // An eventfd written once, by the destructor.
  Mutex mu_;
  CondVar arrived_;
  bool serving_ GUARDED_BY(mu_) = false;
  std::deque<int> pending_ GUARDED_BY(mu_);
  std::function<void(int)> handler_ GUARDED_BY(mu_);
  std::thread reader_;
};

}  // namespace sluice::broker
