#include "broker/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <spdlog/spdlog.h>

namespace sluice::broker {
namespace {

// The kernel's ceiling for RLIMIT_NOFILE (fs.nr_open); 1048576 if unknown.
uint64_t KernelMaxOpenFiles() {
  std::ifstream in("/proc/sys/fs/nr_open");
  uint64_t n = 0;
  if (in >> n && n > 0) return n;
  return 1 << 20;
}

}  // namespace

OpenFileLimit RaiseOpenFileLimit() {
  OpenFileLimit out;
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("open files: getrlimit failed: {}", std::strerror(errno));
    return out;
  }
  out.before = out.after = rl.rlim_cur;
  out.hard = rl.rlim_max;
  rlim_t target = rl.rlim_max;
  if (target == RLIM_INFINITY) target = KernelMaxOpenFiles();
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < target) {
    struct rlimit raised = rl;
    raised.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      out.after = target;
    } else {
      spdlog::warn("open files: cannot raise the soft limit {} to {}: {}", rl.rlim_cur, target,
                   std::strerror(errno));
    }
  }
  spdlog::info("open files: soft limit {} (was {}, hard limit {})", out.after, out.before,
               rl.rlim_max == RLIM_INFINITY ? std::string("unlimited")
                                            : std::to_string(rl.rlim_max));
  return out;
}

}  // namespace sluice::broker
