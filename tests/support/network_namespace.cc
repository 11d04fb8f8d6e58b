#include "support/network_namespace.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include <fmt/format.h>

namespace sluice::testing {
namespace {

constexpr char kPrefix[] = "sluice-faults-";

// Deletes namespaces named after test processes that no longer run.
void RemoveStale() {
  std::string list;
  if (RunCommand({"ip", "netns", "list"}, &list) != 0) return;
  std::istringstream lines(list);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(kPrefix, 0) != 0) continue;
    const std::string name = line.substr(0, line.find(' '));
    const std::string pid_text = name.substr(sizeof(kPrefix) - 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its test still runs
    RunCommand({"ip", "netns", "del", name});
    RunCommand({"ip", "link", "del", fmt::format("sfo{}", pid)});
  }
}

}  // namespace

int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 127;
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return 127;
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execvp(cargs[0], cargs.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output != nullptr) *output = out;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

std::unique_ptr<NetworkNamespace> NetworkNamespace::Create(std::string* why_not) {
  if (::geteuid() != 0) {
    *why_not = "network namespaces need root";
    return nullptr;
  }
  std::string out;
  if (RunCommand({"ip", "netns", "list"}, &out) != 0) {
    *why_not = "ip netns is unavailable: " + out;
    return nullptr;
  }
  RemoveStale();
  const pid_t pid = ::getpid();
  std::unique_ptr<NetworkNamespace> ns(new NetworkNamespace());
  ns->name_ = fmt::format("{}{}", kPrefix, pid);
  ns->outer_link_ = fmt::format("sfo{}", pid);
  ns->inner_link_ = fmt::format("sfi{}", pid);
  const uint32_t base = (10u << 24) | ((static_cast<uint32_t>(pid) & 0x3FFFFFu) << 2);
  auto dotted = [](uint32_t a) {
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFF);
  };
  ns->outer_address_ = dotted(base + 1);
  ns->inner_address_ = dotted(base + 2);
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", ns->name_},
      {"ip", "link", "add", ns->outer_link_, "type", "veth", "peer", "name", ns->inner_link_},
      {"ip", "link", "set", ns->inner_link_, "netns", ns->name_},
      {"ip", "addr", "add", ns->outer_address_ + "/30", "dev", ns->outer_link_},
      {"ip", "link", "set", ns->outer_link_, "up"},
      {"ip", "netns", "exec", ns->name_, "ip", "addr", "add", ns->inner_address_ + "/30", "dev",
       ns->inner_link_},
      {"ip", "netns", "exec", ns->name_, "ip", "link", "set", ns->inner_link_, "up"},
      {"ip", "netns", "exec", ns->name_, "ip", "link", "set", "lo", "up"},
  };
  for (const auto& step : steps) {
    if (RunCommand(step, &out) != 0) {
      *why_not = fmt::format("`{}` failed: {}", fmt::join(step, " "), out);
      return nullptr;  // The destructor removes what was made.
    }
  }
  return ns;
}

NetworkNamespace::~NetworkNamespace() {
  // Deleting the namespace destroys the inner end and, with it, the pair
  // (once no process is left inside); the root end is deleted explicitly in
  // case a process still holds the namespace.
  RunCommand({"ip", "netns", "del", name_});
  RunCommand({"ip", "link", "del", outer_link_});
}

Status NetworkNamespace::Cut() {
  std::string out;
  if (RunCommand({"ip", "netns", "exec", name_, "ip", "link", "set", inner_link_, "down"}, &out) !=
      0) {
    return Status::IOError("cutting the link failed: " + out);
  }
  return Status::Ok();
}

Status NetworkNamespace::Restore() {
  std::string out;
  if (RunCommand({"ip", "netns", "exec", name_, "ip", "link", "set", inner_link_, "up"}, &out) !=
      0) {
    return Status::IOError("restoring the link failed: " + out);
  }
  return Status::Ok();
}

}  // namespace sluice::testing
