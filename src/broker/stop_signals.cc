#include "broker/stop_signals.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>

#include <spdlog/spdlog.h>

namespace sluice::broker {
namespace {

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Ends the process as `signal_number`'s default action would: the exit
// status says which signal it was, as it did before signals were blocked.
[[noreturn]] void DieOf(int signal_number) {
  std::signal(signal_number, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signal_number);
  // Unblocked in this thread only, so this thread takes the raised signal.
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(signal_number);
  _exit(128 + signal_number);  // Not reached: the default action terminates.
}

}  // namespace

Result<std::unique_ptr<StopSignals>> StopSignals::Start() {
  const sigset_t set = StopSet();
  if (int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    return Status::FromErrno(err, "blocking SIGINT and SIGTERM");
  }
  const int signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
  if (signal_fd < 0) return Status::FromErrno(errno, "signalfd");
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    const int err = errno;
    close(signal_fd);
    return Status::FromErrno(err, "eventfd");
  }
  std::unique_ptr<StopSignals> signals(new StopSignals(signal_fd, wake_fd));
  signals->reader_ = std::thread([s = signals.get()] { s->Run(); });
  return signals;
}

StopSignals::StopSignals(int signal_fd, int wake_fd) : signal_fd_(signal_fd), wake_fd_(wake_fd) {}

StopSignals::~StopSignals() {
  const uint64_t one = 1;
  ssize_t n;
  do {
    n = write(wake_fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
  reader_.join();
  close(signal_fd_);
  close(wake_fd_);
}

void StopSignals::Serving() {
  MutexLock lock(&mu_);
  serving_ = true;
}

int StopSignals::Await() {
  MutexLock lock(&mu_);
  while (pending_.empty()) arrived_.Wait(&mu_);
  const int signal_number = pending_.front();
  pending_.pop_front();
  return signal_number;
}

void StopSignals::OnSignal(std::function<void(int)> handler) {
  MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

void StopSignals::Run() {
  pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("waiting for signals failed: {}; SIGINT and SIGTERM are ignored from now on",
                    std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // The destructor.
    signalfd_siginfo info;
    const ssize_t n = read(signal_fd_, &info, sizeof(info));
    if (n == static_cast<ssize_t>(sizeof(info))) Deliver(static_cast<int>(info.ssi_signo));
  }
}

void StopSignals::Deliver(int signal_number) {
  std::function<void(int)> handler;
  {
    MutexLock lock(&mu_);
    if (!serving_) {
      spdlog::warn("received {} while starting; exiting", strsignal(signal_number));
      spdlog::default_logger()->flush();
      DieOf(signal_number);
    }
    if (!handler_) {
      pending_.push_back(signal_number);
      arrived_.Signal();
      return;
    }
    handler = handler_;
  }
  handler(signal_number);
}

}  // namespace sluice::broker
