// WaitUntil: waits for a condition another thread or process brings about.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace sluice::testing {

// Polls `done` every 10 ms until it holds (true) or `timeout` passes (false).
// For conditions with no event to wait on (another process's state, a
// component's accessor); each check must be cheap.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace sluice::testing
