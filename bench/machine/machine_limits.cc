// machine_limits: what this machine's disk and loopback network can do, as
// the baseline for the broker benchmark (bench/run.sh). One JSON object per
// line on stdout:
//   write_fdatasync  sequential writes of BLOCK bytes, fdatasync after each:
//                    the most an fsync-per-write log could reach
//   fdatasync        latency of one 4 KiB append + fdatasync: the floor under
//                    an acks=all round trip
//   write_new        1 MiB writes to a new file, no sync: how fast new data
//                    enters the page cache, the ceiling of any log's appends
//                    (on a VM whose host backs guest memory on first touch,
//                    far below memcpy speed; we measured 0.46 GB/s there
//                    against 12 GB/s for overwriting cached pages)
//   tcp_loopback     one connection, 1 MiB writes, bytes read per second
//
//   machine_limits DIR [--seconds S]    (files are created in DIR and removed)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "machine_limits: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) Die("write");
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// Appends `block`-byte writes to a new file for `seconds` (at most 1 GiB),
// each followed by fdatasync when `sync`; prints MB/s (10^6 bytes) as
// `test`. The file is unlinked, so unsynced pages are dropped, not written.
void WriteSequential(const std::string& dir, size_t block, double seconds, bool sync,
                     const char* test) {
  std::string path = dir + "/" + test + ".tmp";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open");
  std::vector<char> buf(block, 'x');
  const size_t limit = size_t{1} << 30;
  size_t written = 0;
  Clock::time_point start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds && written < limit) {
    WriteAll(fd, buf.data(), block);
    if (sync && ::fdatasync(fd) != 0) Die("fdatasync");
    written += block;
  }
  double elapsed = Seconds(Clock::now() - start);
  ::close(fd);
  ::unlink(path.c_str());
  std::printf("{\"test\":\"%s\",\"block\":%zu,\"bytes\":%zu,\"seconds\":%.3f,"
              "\"mb_per_s\":%.1f}\n",
              test, block, written, elapsed, static_cast<double>(written) / elapsed / 1e6);
}

void FdatasyncLatency(const std::string& dir, double seconds) {
  std::string path = dir + "/fdatasync_latency.tmp";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open");
  std::vector<char> buf(4096, 'x');
  std::vector<double> ms;
  Clock::time_point start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds && ms.size() < 100000) {
    Clock::time_point t = Clock::now();
    WriteAll(fd, buf.data(), buf.size());
    if (::fdatasync(fd) != 0) Die("fdatasync");
    ms.push_back(Seconds(Clock::now() - t) * 1000);
  }
  ::close(fd);
  ::unlink(path.c_str());
  std::sort(ms.begin(), ms.end());
  auto at = [&ms](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("{\"test\":\"fdatasync\",\"block\":4096,\"count\":%zu,\"p50_ms\":%.3f,"
              "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"per_s\":%.0f}\n",
              ms.size(), at(0.5), at(0.99), ms.back(),
              static_cast<double>(ms.size()) / Seconds(Clock::now() - start));
}

// One loopback TCP connection; the reader counts bytes for `seconds`.
void TcpLoopback(double seconds) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
  if (::listen(listener, 1) != 0) Die("listen");
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  const size_t chunk = size_t{1} << 20;
  std::thread writer([addr, chunk] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) Die("connect");
    std::vector<char> buf(chunk, 'x');
    // Ends when the reader closes (EPIPE, ignored below) .
    while (::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) > 0) {
    }
    ::close(fd);
  });
  int conn = ::accept(listener, nullptr, nullptr);
  if (conn < 0) Die("accept");
  std::vector<char> buf(chunk);
  size_t received = 0;
  Clock::time_point start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds) {
    ssize_t r = ::read(conn, buf.data(), buf.size());
    if (r <= 0) break;
    received += static_cast<size_t>(r);
  }
  double elapsed = Seconds(Clock::now() - start);
  ::close(conn);
  writer.join();
  ::close(listener);
  std::printf("{\"test\":\"tcp_loopback\",\"block\":%zu,\"bytes\":%zu,\"seconds\":%.3f,"
              "\"mb_per_s\":%.1f}\n",
              chunk, received, elapsed, static_cast<double>(received) / elapsed / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: machine_limits DIR [--seconds S]\n");
    return 2;
  }
  std::string dir = argv[1];
  double seconds = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  WriteSequential(dir, 64 * 1024, seconds, /*sync=*/true, "write_fdatasync");
  std::fflush(stdout);
  WriteSequential(dir, 1024 * 1024, seconds, /*sync=*/true, "write_fdatasync");
  std::fflush(stdout);
  FdatasyncLatency(dir, seconds);
  std::fflush(stdout);
  WriteSequential(dir, 1024 * 1024, seconds, /*sync=*/false, "write_new");
  std::fflush(stdout);
  TcpLoopback(seconds);
  return 0;
}
