#include "support/tmpfs_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace sluice::testing {

std::unique_ptr<TmpfsMount> TmpfsMount::Create(uint64_t bytes, std::string* why_not) {
  std::unique_ptr<TmpfsMount> m(new TmpfsMount());
  m->path_ = m->dir_.path() / "tmpfs";
  std::error_code ec;
  std::filesystem::create_directory(m->path_, ec);
  if (ec) {
    *why_not = "cannot create the mount point: " + ec.message();
    return nullptr;
  }
  const std::string options = fmt::format("size={},mode=0755", bytes);
  if (::mount("tmpfs", m->path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    *why_not = fmt::format("mount -t tmpfs failed: {}", std::strerror(errno));
    return nullptr;
  }
  m->mounted_ = true;
  return m;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
}

Result<uint64_t> TmpfsMount::Fill() {
  // A new file per call, so that a second call after some space was freed
  // does not have to find the end of the first.
  const std::string file = (path_ / fmt::format("filler-{}", filler_count_++)).string();
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, file);
  const std::vector<char> chunk(1 << 20, 'f');
  uint64_t written = 0;
  // Big writes, then page-sized ones for the last partial megabyte.
  for (size_t size : {chunk.size(), size_t{4096}}) {
    while (true) {
      const ssize_t n = ::write(fd, chunk.data(), size);
      if (n > 0) {
        written += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != ENOSPC) {
        const int err = errno;
        ::close(fd);
        return Status::FromErrno(err, file);
      }
      break;  // ENOSPC (or a zero-byte write): full
    }
  }
  ::close(fd);
  return written;
}

Status TmpfsMount::Unfill() {
  for (int i = 0; i < filler_count_; ++i) {
    std::error_code ec;
    std::filesystem::remove(path_ / fmt::format("filler-{}", i), ec);
    if (ec) return Status::IOError(ec.message());
  }
  filler_count_ = 0;
  return Status::Ok();
}

uint64_t TmpfsMount::FreeBytes() const {
  struct statvfs s {};
  if (::statvfs(path_.c_str(), &s) != 0) return 0;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

}  // namespace sluice::testing
