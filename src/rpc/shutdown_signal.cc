#include "rpc/shutdown_signal.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace sluice::rpc {

Result<std::shared_ptr<ShutdownSignal>> ShutdownSignal::Create() {
  const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Status::FromErrno(errno, "eventfd");
  return std::shared_ptr<ShutdownSignal>(new ShutdownSignal(fd));
}

ShutdownSignal::~ShutdownSignal() { close(fd_); }

void ShutdownSignal::Fire() {
  if (fired_.exchange(true, std::memory_order_acq_rel)) return;
  // The counter goes from 0 to 1, which cannot block or overflow; nobody
  // reads it, so the fd stays readable and wakes every later poll too.
  const uint64_t one = 1;
  ssize_t n;
  do {
    n = write(fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
}

}  // namespace sluice::rpc
