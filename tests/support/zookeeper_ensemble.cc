#include "support/zookeeper_ensemble.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace sluice::testing {
namespace {

// A loopback port free right now (the kernel's pick for port 0).
uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Reaps `pid` within `timeout`; false if it is still running.
bool Reap(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

ZooKeeperEnsemble::ZooKeeperEnsemble(int servers, std::string client_host)
    : client_host_(std::move(client_host)), servers_(static_cast<size_t>(servers)) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    Server& s = servers_[i];
    s.dir = root_.path() / fmt::format("zk{}", i + 1);
    s.client_port = FreeLoopbackPort();
    s.peer_port = FreeLoopbackPort();
    s.election_port = FreeLoopbackPort();
  }
}

ZooKeeperEnsemble::~ZooKeeperEnsemble() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string ZooKeeperEnsemble::connect_string() const {
  std::string out;
  for (const Server& s : servers_) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}:{}", client_host_, s.client_port);
  }
  return out;
}

Status ZooKeeperEnsemble::WriteConfig(int server) const {
  const Server& s = servers_[static_cast<size_t>(server)];
  std::error_code ec;
  std::filesystem::create_directories(s.dir / "data", ec);
  if (ec) return Status::IOError(ec.message());
  std::ofstream myid(s.dir / "data" / "myid");
  myid << server + 1 << "\n";
  std::ofstream cfg(s.dir / "zoo.cfg");
  cfg << "tickTime=200\n"
      << "initLimit=25\n"
      << "syncLimit=10\n"
      << "minSessionTimeout=400\n"
      << "maxSessionTimeout=60000\n"
      << "dataDir=" << (s.dir / "data").string() << "\n"
      << "clientPort=" << s.client_port << "\n"
      << "clientPortAddress=" << client_host_ << "\n"
      << "admin.enableServer=false\n"
      << "4lw.commands.whitelist=ruok,srvr,stat,mntr\n"
      << "preAllocSize=1024\n";  // KiB: small transaction log files
  if (servers_.size() > 1) {
    for (size_t i = 0; i < servers_.size(); ++i) {
      cfg << "server." << i + 1 << "=127.0.0.1:" << servers_[i].peer_port << ":"
          << servers_[i].election_port << "\n";
    }
  }
  if (!cfg || !myid) return Status::IOError("cannot write " + (s.dir / "zoo.cfg").string());
  return Status::Ok();
}

Status ZooKeeperEnsemble::Spawn(int server) {
  Server& s = servers_[static_cast<size_t>(server)];
  SLUICE_RETURN_IF_ERROR(WriteConfig(server));
  const std::string cfg = (s.dir / "zoo.cfg").string();
  const std::string log = (s.dir / "server.log").string();
  std::vector<std::string> args = {
      "/usr/bin/java", "-Xms32m", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.jmx.log4j.disable=true",
      // fsync stays on: the ensemble is as durable as a real one.
      "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
      "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return Status::FromErrno(errno, log);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    return Status::FromErrno(errno, "fork");
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only until exec. The server dies with
    // the test, however the test ends.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out);
  s.pid = pid;
  return Status::Ok();
}

std::string ZooKeeperEnsemble::Ask(int server, const std::string& command) const {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, client_host_.c_str(), &addr.sin_addr);
  addr.sin_port = htons(client_port(server));
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::write(fd, command.data(), command.size()) == static_cast<ssize_t>(command.size())) {
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    while (::poll(&p, 1, 2000) > 0) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

bool ZooKeeperEnsemble::Serving(int server) const {
  const std::string srvr = Ask(server, "srvr");
  return srvr.find("Mode: standalone") != std::string::npos ||
         srvr.find("Mode: leader") != std::string::npos ||
         srvr.find("Mode: follower") != std::string::npos;
}

int ZooKeeperEnsemble::Leader() const {
  for (int i = 0; i < size(); ++i) {
    if (running(i) && Ask(i, "srvr").find("Mode: leader") != std::string::npos) return i;
  }
  return -1;
}

Status ZooKeeperEnsemble::Start(std::chrono::milliseconds timeout) {
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) SLUICE_RETURN_IF_ERROR(Spawn(i));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < size(); ++i) {
    while (!Serving(i)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Aborted(fmt::format("zookeeper server {} not serving in time:\n{}", i + 1,
                                           output(i)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return Status::Ok();
}

Status ZooKeeperEnsemble::Stop(int server) {
  Server& s = servers_[static_cast<size_t>(server)];
  if (s.pid <= 0) return Status::Ok();
  ::kill(s.pid, SIGTERM);
  if (!Reap(s.pid, std::chrono::seconds(20))) {
    Kill(server);
    return Status::Aborted("zookeeper server did not stop on SIGTERM");
  }
  s.pid = -1;
  return Status::Ok();
}

void ZooKeeperEnsemble::Kill(int server) {
  Server& s = servers_[static_cast<size_t>(server)];
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGKILL);
  Reap(s.pid, std::chrono::seconds(30));
  s.pid = -1;
}

Status ZooKeeperEnsemble::Restart(int server, std::chrono::milliseconds timeout) {
  if (running(server)) SLUICE_RETURN_IF_ERROR(Stop(server));
  SLUICE_RETURN_IF_ERROR(Spawn(server));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Serving(server)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Aborted(fmt::format("zookeeper server {} not serving after restart:\n{}",
                                         server + 1, output(server)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

Status ZooKeeperEnsemble::ExpireSession(int64_t session_id, const std::string& password,
                                        const std::function<bool()>& expired) {
  clientid_t id{};
  id.client_id = session_id;
  std::copy_n(password.begin(), std::min(password.size(), sizeof(id.passwd)), id.passwd);
  for (int attempt = 0; attempt < 10; ++attempt) {
    zhandle_t* other = zookeeper_init(connect_string().c_str(), nullptr, 4000, &id, nullptr, 0);
    if (other == nullptr) return Status::IOError("zookeeper_init failed");
    const auto connected_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (zoo_state(other) != ZOO_CONNECTED_STATE &&
           std::chrono::steady_clock::now() < connected_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    zookeeper_close(other);  // Ends the session if this handle still held it.
    const auto heard_by = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < heard_by) {
      if (expired()) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return Status::Aborted("the session did not expire");
}

std::string ZooKeeperEnsemble::output(int server) const {
  std::ifstream in(servers_[static_cast<size_t>(server)].dir / "server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sluice::testing
