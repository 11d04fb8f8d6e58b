#include "rpc/socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace sluice::rpc {
namespace {

Status Fail(Failure kind, Status status, Failure* failure) {
  *failure = kind;
  return status;
}

Status ShutdownStatus(const std::string& peer) {
  return Status::Aborted("connection to " + peer + " shut down");
}

// Milliseconds left until `deadline`, rounded up so that a wait never ends
// just before it; 0 once it has passed.
int MillisUntil(Deadline deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

// Waits for `events` on fd or for the signal; shared by Connect (before a
// Socket exists) and Socket::Wait.
Status WaitFd(int fd, short events, const ShutdownSignal& signal, Deadline deadline,
              const std::string& peer, const char* what, Failure* failure) {
  for (;;) {
    if (signal.fired()) return Fail(Failure::kShutdown, ShutdownStatus(peer), failure);
    pollfd fds[2] = {{fd, events, 0}, {signal.fd(), POLLIN, 0}};
    const int timeout = MillisUntil(deadline);
    const int n = poll(fds, 2, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Failure::kIOError, Status::FromErrno(errno, "poll " + peer), failure);
    }
    if (fds[1].revents != 0) return Fail(Failure::kShutdown, ShutdownStatus(peer), failure);
    // Errors and hang-ups count as ready: the next send/recv says which.
    if (fds[0].revents != 0) return Status::Ok();
    if (n == 0 && MillisUntil(deadline) == 0) {
      return Fail(Failure::kTimeout, Status::IOError(std::string("timed out ") + what + " " + peer),
                  failure);
    }
  }
}

// One attempt on one resolved address.
Result<int> ConnectOne(const addrinfo& ai, const ShutdownSignal& signal, Deadline deadline,
                       const std::string& peer, Failure* failure) {
  const int fd = socket(ai.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(Failure::kIOError, Status::FromErrno(errno, "socket"), failure);
  auto fail = [&](Status s) -> Result<int> {
    close(fd);
    return s;
  };
  // Requests are small and each waits for its answer: Nagle would only add
  // a delayed-ACK round to every call.
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return fail(Fail(Failure::kIOError, Status::FromErrno(errno, "TCP_NODELAY"), failure));
  }
  if (connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    // A non-blocking connect interrupted by a signal goes on in the
    // background, as EINPROGRESS does; both finish in poll().
    if (errno != EINPROGRESS && errno != EINTR) {
      return fail(Fail(Failure::kIOError, Status::FromErrno(errno, "connect to " + peer), failure));
    }
    Status s = WaitFd(fd, POLLOUT, signal, deadline, peer, "connecting to", failure);
    if (!s.ok()) return fail(std::move(s));
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      return fail(Fail(Failure::kIOError, Status::FromErrno(err, "connect to " + peer), failure));
    }
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<Socket>> Socket::Connect(const std::string& host, int32_t port,
                                                Deadline deadline,
                                                std::shared_ptr<ShutdownSignal> signal,
                                                Failure* failure) {
  const std::string peer = host + ":" + std::to_string(port);
  if (port <= 0 || port > 65535) {
    return Fail(Failure::kIOError, Status::InvalidArgument("bad port in " + peer), failure);
  }
  if (signal->fired()) return Fail(Failure::kShutdown, ShutdownStatus(peer), failure);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it does not count loopback as configured, so it can
  // hide 127.0.0.1 on a host with no other interface. An address of a family
  // the host cannot reach fails fast, and the next one is tried.
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    return Fail(Failure::kIOError,
                Status::IOError("cannot resolve " + peer + ": " + gai_strerror(rc)), failure);
  }
  // Each address in turn (IPv6 and IPv4 of one name), within the one deadline.
  Status last = Status::IOError("no address for " + peer);
  Failure last_failure = Failure::kIOError;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Failure f = Failure::kNone;
    Result<int> fd = ConnectOne(*ai, *signal, deadline, peer, &f);
    if (fd.ok()) {
      freeaddrinfo(list);
      return std::unique_ptr<Socket>(new Socket(*fd, std::move(signal), peer));
    }
    last = fd.status();
    last_failure = f;
    if (f == Failure::kShutdown || f == Failure::kTimeout) break;
  }
  freeaddrinfo(list);
  return Fail(last_failure, std::move(last), failure);
}

Socket::~Socket() { close(fd_); }

Status Socket::Wait(short events, Deadline deadline, const char* what, Failure* failure) {
  return WaitFd(fd_, events, *signal_, deadline, peer_, what, failure);
}

Status Socket::WriteAll(std::span<const uint8_t> first, std::span<const uint8_t> second,
                        Deadline deadline, Failure* failure) {
  iovec iov[2] = {{const_cast<uint8_t*>(first.data()), first.size()},
                  {const_cast<uint8_t*>(second.data()), second.size()}};
  size_t at = 0;  // First iovec with bytes left.
  while (at < 2) {
    if (iov[at].iov_len == 0) {
      ++at;
      continue;
    }
    if (signal_->fired()) return Fail(Failure::kShutdown, ShutdownStatus(peer_), failure);
    msghdr msg{};
    msg.msg_iov = iov + at;
    msg.msg_iovlen = 2 - at;
    // MSG_NOSIGNAL: a peer that went away is an EPIPE here, not a SIGPIPE
    // that kills the broker.
    const ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        SLUICE_RETURN_IF_ERROR(Wait(POLLOUT, deadline, "sending to", failure));
        continue;
      }
      return Fail(Failure::kIOError, Status::FromErrno(errno, "send to " + peer_), failure);
    }
    size_t sent = static_cast<size_t>(n);
    while (at < 2 && sent >= iov[at].iov_len) {
      sent -= iov[at].iov_len;
      iov[at].iov_len = 0;
      ++at;
    }
    if (at < 2) {
      iov[at].iov_base = static_cast<uint8_t*>(iov[at].iov_base) + sent;
      iov[at].iov_len -= sent;
    }
  }
  return Status::Ok();
}

Status Socket::ReadExactly(std::span<uint8_t> out, Deadline deadline, Failure* failure) {
  size_t got = 0;
  while (got < out.size()) {
    if (signal_->fired()) return Fail(Failure::kShutdown, ShutdownStatus(peer_), failure);
    const ssize_t n = recv(fd_, out.data() + got, out.size() - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      return Fail(Failure::kIOError,
                  Status::IOError("connection closed by " + peer_ + " after " +
                                  std::to_string(got) + " of " + std::to_string(out.size()) +
                                  " bytes"),
                  failure);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      SLUICE_RETURN_IF_ERROR(Wait(POLLIN, deadline, "waiting for", failure));
      continue;
    }
    return Fail(Failure::kIOError, Status::FromErrno(errno, "recv from " + peer_), failure);
  }
  return Status::Ok();
}

}  // namespace sluice::rpc
