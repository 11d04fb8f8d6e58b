// PrometheusProcess: runs a real Prometheus server (/usr/bin/prometheus,
// Debian package "prometheus", installed by scripts/install-deps.sh) that
// scrapes given targets every second, and reads values back through its HTTP
// API. For tests that prove our exposition is what Prometheus parses.
//
//   PrometheusProcess prometheus;
//   ASSERT_TRUE(prometheus.Start(dir.path(), {"127.0.0.1:" + port}));
//   ASSERT_TRUE(prometheus.WaitUntilUp(30s)) << prometheus.LogTail();
//   std::string json = prometheus.Query("sluice_requests_total");
//
// Link PkgConfig::CPPHTTPLIB (the HTTP client) and compile
// support/prometheus_process.cc into the test. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::testing {

// A loopback port nobody listens on right now (a small race, acceptable in a
// test); 0 on failure.
uint16_t FreeTcpPort();

class PrometheusProcess {
 public:
  static constexpr char kBinary[] = "/usr/bin/prometheus";
  static bool Installed();

  PrometheusProcess() = default;
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;
  ~PrometheusProcess() { Stop(); }  // SIGTERM, then SIGKILL after 10 s.

  // Writes `dir`/prometheus.yml with one job "sluice" scraping `targets`
  // (host:port, path /metrics) every second, and starts Prometheus on a free
  // loopback port with its data and log under `dir`.
  bool Start(const std::filesystem::path& dir, const std::vector<std::string>& targets);

  // Waits until /api/v1/targets reports a healthy target; false on timeout
  // (targets_body() has the last answer).
  bool WaitUntilUp(std::chrono::milliseconds timeout);

  // GET /api/v1/query?query=`expr`: the JSON body, or "" on any failure.
  std::string Query(const std::string& expr);
  // Polls Query(expr) until its body contains `needle` or `timeout` passes;
  // returns the last body.
  std::string QueryUntil(const std::string& expr, const std::string& needle,
                         std::chrono::milliseconds timeout);

  // The exit status, or -1 if it had to be killed (or was not running).
  int Stop();

  uint16_t port() const { return port_; }
  const std::string& targets_body() const { return targets_body_; }
  // The last 4000 bytes of Prometheus's log.
  std::string LogTail() const;

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::filesystem::path log_;
  std::string targets_body_;
};

}  // namespace sluice::testing
