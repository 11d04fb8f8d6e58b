// BrokerProcess: runs the real sluice-broker binary for integration tests.
//
//   BrokerProcess broker;
//   ASSERT_TRUE(broker.Start().ok()) << broker.output();
//   ... connect to 127.0.0.1:broker.port() ...
//   EXPECT_EQ(broker.Stop().value(), 0);
//
// Start adds --override listeners=PLAINTEXT://127.0.0.1:0 and
// --override log.dirs=<a temporary directory> (unless options say otherwise),
// waits for the "ready" log line and reads the bound port from it. The
// binary is $SLUICE_BROKER_BINARY or sluice-broker next to the test binary
// (both land in build/<flavour>/bin). The broker is killed when the thread
// that started it ends (PR_SET_PDEATHSIG), so a crashed test leaves none
// behind: start it from the test's own thread. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "support/temp_dir.h"

namespace sluice::testing {

struct BrokerProcessOptions {
  std::vector<std::string> args;       // Before the overrides, e.g. a properties file.
  std::vector<std::string> overrides;  // "key=value", each passed as --override.
  // Data directory; empty: a fresh temporary directory owned by the helper.
  std::filesystem::path log_dir;
  bool default_listener = true;        // Add listeners=PLAINTEXT://127.0.0.1:0.
  // Runs the binary through this command (found on PATH), e.g.
  // {"ip", "netns", "exec", "ns1"} to start it in a network namespace. The
  // prefix must exec the binary in place (as `ip netns exec` does), so that
  // pid() is the broker's and signals reach it.
  std::vector<std::string> exec_prefix;
  std::chrono::milliseconds ready_timeout{30000};
};

class BrokerProcess {
 public:
  BrokerProcess();
  ~BrokerProcess();  // SIGKILLs a broker still running.
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  static std::string BinaryPath();

  // Starts the broker and waits for its ready line. On failure the output so
  // far is in the Status message.
  Status Start(BrokerProcessOptions options = {});
  // SIGTERM (or `signal`), then waits; the exit code, or 128+signal if it
  // died of a signal. On timeout SIGKILLs and returns an error.
  Result<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30),
                   int signal = 15 /* SIGTERM */);
  // SIGKILL and reap (a crash).
  void Kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  const std::filesystem::path& log_dir() const { return log_dir_; }
  // Everything the broker wrote to stdout and stderr so far.
  std::string output() const;
  // Waits until the output contains `needle`.
  bool WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout);

  // Runs the binary with `args` to completion (for --help, bad configs, ...):
  // exit code (128+signal if killed) and output.
  static Result<std::pair<int, std::string>> Run(
      const std::vector<std::string>& args,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  Status Spawn(const std::vector<std::string>& args,
               const std::vector<std::string>& exec_prefix = {});
  Result<int> Reap(std::chrono::milliseconds timeout);
  void JoinReader();

  std::unique_ptr<TempDir> temp_dir_;
  std::filesystem::path log_dir_;
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable output_changed_;
  std::string output_;
  bool output_closed_ = false;
  std::string host_;
  uint16_t port_ = 0;
};

}  // namespace sluice::testing
