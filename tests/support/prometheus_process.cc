#include "support/prometheus_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <httplib.h>

extern char** environ;

namespace sluice::testing {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

httplib::Client ApiClient(uint16_t port) {
  httplib::Client api("127.0.0.1", port);
  api.set_connection_timeout(1);
  api.set_read_timeout(2);
  return api;
}

}  // namespace

uint16_t FreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
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

bool PrometheusProcess::Installed() { return std::filesystem::exists(kBinary); }

bool PrometheusProcess::Start(const std::filesystem::path& dir,
                              const std::vector<std::string>& targets) {
  if (pid_ > 0) return false;
  {
    std::ofstream config(dir / "prometheus.yml");
    config << "global:\n"
              "  scrape_interval: 1s\n"
              "  evaluation_interval: 1s\n"
              "scrape_configs:\n"
              "  - job_name: sluice\n"
              "    static_configs:\n"
              "      - targets: [";
    for (size_t i = 0; i < targets.size(); ++i) config << (i ? ", '" : "'") << targets[i] << "'";
    config << "]\n";
    if (!config) return false;
  }
  port_ = FreeTcpPort();
  if (port_ == 0) return false;
  log_ = dir / "prometheus.log";
  std::string config = "--config.file=" + (dir / "prometheus.yml").string();
  std::string storage = "--storage.tsdb.path=" + (dir / "data").string();
  std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
  char* argv[] = {const_cast<char*>(kBinary), config.data(), storage.data(), listen.data(),
                  nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  int rc = posix_spawn(&pid_, kBinary, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

bool PrometheusProcess::WaitUntilUp(std::chrono::milliseconds timeout) {
  httplib::Client api = ApiClient(port_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto res = api.Get("/api/v1/targets");
    if (!res || res->status != 200) continue;  // Not listening yet.
    targets_body_ = res->body;
    if (targets_body_.find("\"health\":\"up\"") != std::string::npos) return true;
  }
  return false;
}

std::string PrometheusProcess::Query(const std::string& expr) {
  httplib::Client api = ApiClient(port_);
  auto res = api.Get("/api/v1/query", httplib::Params{{"query", expr}}, httplib::Headers{});
  return res && res->status == 200 ? res->body : std::string();
}

std::string PrometheusProcess::QueryUntil(const std::string& expr, const std::string& needle,
                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string body;
  while (true) {
    body = Query(expr);
    if (body.find(needle) != std::string::npos || std::chrono::steady_clock::now() >= deadline) {
      return body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

int PrometheusProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
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

std::string PrometheusProcess::LogTail() const {
  std::string log = ReadFile(log_);
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

}  // namespace sluice::testing
