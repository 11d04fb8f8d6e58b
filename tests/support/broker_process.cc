#include "support/broker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace sluice::testing {

namespace {
int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Every thread's stack of a live process, from gdb when the machine has it:
// a broker that does not stop is a hang, and the stacks say where it is.
std::string StacksOf(pid_t pid) {
  const std::string command = fmt::format(
      "timeout 60 gdb -batch -nx -p {} -ex 'thread apply all bt' 2>&1", pid);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "(could not run gdb)";
  std::string stacks;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) stacks.append(buffer, n);
  ::pclose(pipe);
  return stacks;
}
}  // namespace

BrokerProcess::BrokerProcess() = default;

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) Kill();
  JoinReader();
}

std::string BrokerProcess::BinaryPath() {
  if (const char* env = std::getenv("SLUICE_BROKER_BINARY"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "sluice-broker").string();
}

Status BrokerProcess::Spawn(const std::vector<std::string>& args,
                            const std::vector<std::string>& exec_prefix) {
  const std::string binary = BinaryPath();
  std::vector<std::string> all = exec_prefix;
  all.push_back(binary);
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::FromErrno(errno, "fork");
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. The broker dies with
    // the test, however the test ends (a crash or a failed ASSERT included).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    const char msg[] = "exec of sluice-broker failed\n";
    (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(fds[1]);
  pid_ = pid;
  output_fd_ = fds[0];
  {
    std::lock_guard lock(mu_);
    output_.clear();
    output_closed_ = false;
  }
  // SLUICE_TEST_BROKER_LOGS=DIR keeps every incarnation's whole output in
  // DIR/<pid>.log, for reading a failed fault test after the fact (the
  // captured output restarts with each start).
  int transcript = -1;
  if (const char* dir = std::getenv("SLUICE_TEST_BROKER_LOGS"); dir != nullptr && *dir != '\0') {
    const std::string path = fmt::format("{}/{}.log", dir, pid);
    transcript = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  reader_ = std::thread([this, fd = output_fd_, transcript] {
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n > 0 && transcript >= 0) (void)!::write(transcript, buf, static_cast<size_t>(n));
      std::lock_guard lock(mu_);
      if (n <= 0) {
        if (transcript >= 0) ::close(transcript);
        output_closed_ = true;
        output_changed_.notify_all();
        return;
      }
      output_.append(buf, static_cast<size_t>(n));
      output_changed_.notify_all();
    }
  });
  return Status::Ok();
}

Status BrokerProcess::Start(BrokerProcessOptions options) {
  if (pid_ > 0) return Status::InvalidArgument("broker already running");
  JoinReader();
  log_dir_ = options.log_dir;
  if (log_dir_.empty()) {
    temp_dir_ = std::make_unique<TempDir>();
    log_dir_ = temp_dir_->path() / "data";
  }
  std::vector<std::string> args = options.args;
  if (options.default_listener) {
    args.insert(args.end(), {"--override", "listeners=PLAINTEXT://127.0.0.1:0"});
  }
  args.insert(args.end(), {"--override", "log.dirs=" + log_dir_.string()});
  for (const auto& o : options.overrides) args.insert(args.end(), {"--override", o});
  SLUICE_RETURN_IF_ERROR(Spawn(args, options.exec_prefix));

  // Wait for "... ready: listening on NAME://host:port ...".
  std::unique_lock lock(mu_);
  const bool ready = output_changed_.wait_for(lock, options.ready_timeout, [this] {
    const size_t at = output_.find(" ready: ");
    return output_closed_ || (at != std::string::npos && output_.find('\n', at) != std::string::npos);
  });
  const size_t at = output_.find(" ready: ");
  if (!ready || at == std::string::npos) {
    std::string out = output_;
    lock.unlock();
    Kill();
    return Status::Aborted(fmt::format("sluice-broker did not become ready{}; output:\n{}",
                                       ready ? " (it exited)" : " in time", out));
  }
  const std::string line = output_.substr(at, output_.find('\n', at) - at);
  lock.unlock();
  const size_t scheme = line.find("://");
  if (scheme == std::string::npos) return Status::Corruption("no listener in: " + line);
  const size_t end = line.find_first_of(" ,", scheme + 3);
  const std::string host_port = line.substr(scheme + 3, end - (scheme + 3));
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return Status::Corruption("no port in: " + line);
  host_ = host_port.substr(0, colon);
  if (host_.size() > 1 && host_.front() == '[') host_ = host_.substr(1, host_.size() - 2);
  port_ = static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1)));
  return Status::Ok();
}

Result<int> BrokerProcess::Reap(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      JoinReader();
      return ExitCodeOf(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return Status::FromErrno(errno, "waitpid");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Aborted("sluice-broker did not exit in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<int> BrokerProcess::Stop(std::chrono::milliseconds timeout, int signal) {
  if (pid_ <= 0) return Status::InvalidArgument("broker not running");
  ::kill(pid_, signal);
  auto code = Reap(timeout);
  if (!code.ok() && pid_ > 0) {
    // Said here, not left to the caller: many tests only check the exit code.
    const std::string out = output();
    std::fprintf(stderr, "sluice-broker %d did not stop in %lld ms; its stacks:\n%s\n"
                 "its last output:\n%s\n",
                 static_cast<int>(pid_), static_cast<long long>(timeout.count()),
                 StacksOf(pid_).c_str(),
                 out.substr(out.size() > 16000 ? out.size() - 16000 : 0).c_str());
    Kill();
  }
  return code;
}

void BrokerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  JoinReader();
}

void BrokerProcess::JoinReader() {
  const bool had_reader = reader_.joinable();
  if (had_reader) reader_.join();
  if (output_fd_ >= 0) ::close(output_fd_);
  output_fd_ = -1;
  if (!had_reader) return;
  // A sanitizer report in a broker fails the test that ran it, even when the
  // test killed the broker (and so never saw its exit code).
  const std::string out = output();
  for (std::string_view marker : {"WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:",
                                  "ERROR: LeakSanitizer:", "runtime error:"}) {
    const size_t at = out.find(marker);
    if (at == std::string::npos) continue;
    ADD_FAILURE() << "sluice-broker reported \"" << marker << "\":\n"
                  << out.substr(at > 2000 ? at - 2000 : 0, 8000);
    break;
  }
}

std::string BrokerProcess::output() const {
  std::lock_guard lock(mu_);
  return output_;
}

bool BrokerProcess::WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return output_changed_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos;
  });
}

Result<std::pair<int, std::string>> BrokerProcess::Run(const std::vector<std::string>& args,
                                                       std::chrono::milliseconds timeout) {
  BrokerProcess process;
  SLUICE_RETURN_IF_ERROR(process.Spawn(args));
  auto code = process.Reap(timeout);
  if (!code.ok()) {
    process.Kill();
    return code.status();
  }
  return std::make_pair(*code, process.output());
}

}  // namespace sluice::testing
