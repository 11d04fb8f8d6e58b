#include "cluster/producer_id_allocator.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace sluice::cluster {
namespace {

constexpr char kFileName[] = "producer-id-block";

Status Persist(const std::filesystem::path& path, int64_t value) {
  auto tmp = path;
  tmp += ".tmp";
  const std::string text = std::to_string(value) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, tmp.string());
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return Status::FromErrno(err, tmp.string());
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(errno, path.string());
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Status::FromErrno(errno, path.parent_path().string());
  const int rc = ::fsync(dir);
  ::close(dir);
  return rc == 0 ? Status::Ok() : Status::FromErrno(errno, path.parent_path().string());
}

}  // namespace

Result<std::unique_ptr<ProducerIdAllocator>> ProducerIdAllocator::Open(
    const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(fmt::format("{}: {}", dir.string(), ec.message()));
  const auto path = dir / kFileName;
  int64_t next_block = 0;
  std::ifstream in(path);
  if (in && !(in >> next_block)) {
    return Status::Corruption(fmt::format("{}: not a number", path.string()));
  }
  if (next_block < 0) return Status::Corruption(fmt::format("{}: negative", path.string()));
  return std::unique_ptr<ProducerIdAllocator>(new ProducerIdAllocator(path, next_block));
}

Result<int64_t> ProducerIdAllocator::Next() {
  MutexLock lock(&mu_);
  if (next_id_ >= block_end_) {
    const int64_t start = next_block_;
    SLUICE_RETURN_IF_ERROR(Persist(path_, start + kBlockSize));
    next_block_ = start + kBlockSize;
    next_id_ = start;
    block_end_ = start + kBlockSize;
  }
  return next_id_++;
}

}  // namespace sluice::cluster
