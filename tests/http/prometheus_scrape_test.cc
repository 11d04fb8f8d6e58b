// Scrapes HttpServer with a real Prometheus server and reads the values back
// through Prometheus's HTTP API: proves the exposition text (escaping
// included) is what Prometheus parses, not just what we think it parses.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <httplib.h>

#include <gtest/gtest.h>

#include "http/http_server.h"
#include "support/temp_dir.h"

extern char** environ;

namespace sluice::http {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr auto kWaitLimit = std::chrono::seconds(20);

// A port nobody listens on right now (a small race, acceptable in a test).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs Prometheus; the destructor stops it (SIGTERM, then SIGKILL after 10 s).
class PrometheusProcess {
 public:
  PrometheusProcess() = default;
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;
  ~PrometheusProcess() { Stop(); }

  bool Start(const std::filesystem::path& dir, uint16_t port) {
    log_ = dir / "prometheus.log";
    std::string config = "--config.file=" + (dir / "prometheus.yml").string();
    std::string storage = "--storage.tsdb.path=" + (dir / "data").string();
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    char* argv[] = {const_cast<char*>(kPrometheus), config.data(), storage.data(), listen.data(),
                    nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int rc = posix_spawn(&pid_, kPrometheus, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }

  // Returns the exit status, or -1 if it had to be killed.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string LogTail() const {
    std::string log = ReadFile(log_);
    return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

TEST(PrometheusScrapeTest, RealPrometheusScrapesOurEndpoint) {
  if (!std::filesystem::exists(kPrometheus)) {
    FAIL() << kPrometheus << " is missing: run scripts/install-deps.sh "
           << "(Debian package 'prometheus'; CI installs it)";
  }

  metrics::MetricsRegistry registry;
  // A label value that needs every escape: quote, backslash, newline.
  registry.AddCounter("sluice_test_scraped_total", "Test counter.", {"note"})
      .WithLabels({"a\"b\\c\nd"})
      .Increment(4242);
  metrics::Histogram& latency =
      registry.AddHistogram("sluice_test_latency_seconds", "Test histogram.", {"api"},
                            metrics::LatencyBuckets())
          .WithLabels({"Produce"});
  for (double v : {0.0001, 0.002, 3.0}) latency.Observe(v);

  HttpServer server("127.0.0.1", 0, registry);
  Result<uint16_t> our_port = server.Start();
  ASSERT_TRUE(our_port.ok()) << our_port.status().ToString();

  testing::TempDir dir;
  {
    std::ofstream config(dir.path() / "prometheus.yml");
    config << "global:\n"
              "  scrape_interval: 1s\n"
              "  evaluation_interval: 1s\n"
              "scrape_configs:\n"
              "  - job_name: sluice\n"
              "    static_configs:\n"
              "      - targets: ['127.0.0.1:"
           << *our_port << "']\n";
  }
  uint16_t prom_port = FreePort();
  ASSERT_NE(prom_port, 0);
  PrometheusProcess prometheus;
  ASSERT_TRUE(prometheus.Start(dir.path(), prom_port));

  httplib::Client api("127.0.0.1", prom_port);
  api.set_connection_timeout(1);
  api.set_read_timeout(2);
  auto query = [&](const std::string& expr) -> std::string {
    auto res = api.Get("/api/v1/query", httplib::Params{{"query", expr}}, httplib::Headers{});
    return res && res->status == 200 ? res->body : std::string();
  };

  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  std::string targets, counter, count;
  bool up = false, counter_ok = false, count_ok = false;
  while (std::chrono::steady_clock::now() < deadline && !(up && counter_ok && count_ok)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (!up) {
      auto res = api.Get("/api/v1/targets");
      if (!res || res->status != 200) continue;  // Not listening yet.
      targets = res->body;
      up = targets.find("\"health\":\"up\"") != std::string::npos;
      if (!up) continue;
    }
    counter = query("sluice_test_scraped_total");
    counter_ok = counter.find("\"4242\"") != std::string::npos;
    count = query("sluice_test_latency_seconds_count{api=\"Produce\"}");
    count_ok = count.find("\"3\"") != std::string::npos;
  }
  EXPECT_TRUE(up) << "target never healthy; /api/v1/targets: " << targets << "\nlog:\n"
                  << prometheus.LogTail();
  EXPECT_TRUE(counter_ok) << "query result: " << counter << "\nlog:\n" << prometheus.LogTail();
  // Prometheus's JSON escapes the label value the way our text format does.
  EXPECT_NE(counter.find("\"note\":\"a\\\"b\\\\c\\nd\""), std::string::npos) << counter;
  EXPECT_TRUE(count_ok) << "query result: " << count;
  if (count_ok) {
    // 0.0001 and 0.002 are at or below the 3.2 ms bound; 3.0 is not.
    std::string le = query("sluice_test_latency_seconds_bucket{le=\"0.0032\"}");
    EXPECT_NE(le.find("\"2\""), std::string::npos) << le;
  }

  EXPECT_EQ(prometheus.Stop(), 0) << prometheus.LogTail();
  server.Stop();
}

}  // namespace
}  // namespace sluice::http
