// FileSystem::Default(): plain POSIX calls, errno mapped to Status.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "storage/file.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;

class PosixFile final : public File {
 public:
  PosixFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  Result<size_t> Read(uint64_t offset, std::span<uint8_t> out) const override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, path_.string());
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status Write(uint64_t offset, std::span<const uint8_t> data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, path_.string());
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, path_.string());
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(errno, path_.string());
    }
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, path_.string());
    return static_cast<uint64_t>(st.st_size);
  }

  int fd() const override { return fd_; }
  const fs::path& path() const override { return path_; }

 private:
  fs::path path_;
  int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::shared_ptr<File>> Open(const fs::path& path, bool create) override {
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return Status::FromErrno(errno, path.string());
    return std::shared_ptr<File>(std::make_shared<PosixFile>(path, fd));
  }

  Result<bool> Exists(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return Status::FromErrno(errno, path.string());
  }

  Result<std::vector<DirEntry>> List(const fs::path& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Status::FromErrno(errno, dir.string());
    std::vector<DirEntry> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::stat((dir / name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      out.push_back({std::move(name), is_dir});
    }
    ::closedir(d);
    return out;
  }

  Status CreateDir(const fs::path& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno == EEXIST) return Status::AlreadyExists(dir.string());
      return Status::FromErrno(errno, dir.string());
    }
    return Status::Ok();
  }

  Status Rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno(errno, from.string());
    return Status::Ok();
  }

  Status Remove(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, path.string());
    return Status::Ok();
  }

  Status RemoveTree(const fs::path& dir) override {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return Status::FromErrno(ec.value(), dir.string());
    return Status::Ok();
  }

  Status SyncDir(const fs::path& dir) override { return WithDirFd(dir, ::fsync, ""); }

  Status SyncFileSystem(const fs::path& dir) override {
    // Since Linux 5.8 syncfs also reports writeback errors of any file on
    // the file system, so a failed write-back is not lost.
    return WithDirFd(dir, ::syncfs, "syncfs ");
  }

 private:
  // Opens `dir`, runs `sync` on its descriptor and closes it; a failure of
  // `sync` is reported as "<what><dir>".
  static Status WithDirFd(const fs::path& dir, int (*sync)(int), const char* what) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, dir.string());
    int rc = sync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno(err, what + dir.string());
    return Status::Ok();
  }
};

}  // namespace

Result<int64_t> File::LastModifiedMs() const {
  struct stat st {};
  if (::fstat(fd(), &st) != 0) return Status::FromErrno(errno, path().string());
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

Result<FileId> File::Id() const {
  struct stat st {};
  if (::fstat(fd(), &st) != 0) return Status::FromErrno(errno, path().string());
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

FileSystem* FileSystem::Default() {
  static PosixFileSystem* fs = new PosixFileSystem();  // Never destroyed: used at exit.
  return fs;
}

Status ReadFully(const File& file, uint64_t offset, std::span<uint8_t> out) {
  Result<size_t> n = file.Read(offset, out);
  if (!n.ok()) return n.status();
  if (*n != out.size()) {
    return Status::Corruption(file.path().string() + ": short read at " + std::to_string(offset));
  }
  return Status::Ok();
}

Status WriteFileAtomically(FileSystem* fs, const fs::path& dir, const std::string& name,
                           std::span<const uint8_t> data) {
  fs::path tmp = dir / (name + ".tmp");
  Result<std::shared_ptr<File>> f = fs->Open(tmp, /*create=*/true);
  if (!f.ok()) return f.status();
  SLUICE_RETURN_IF_ERROR((*f)->Truncate(0));
  SLUICE_RETURN_IF_ERROR((*f)->Write(0, data));
  SLUICE_RETURN_IF_ERROR((*f)->Sync());
  SLUICE_RETURN_IF_ERROR(fs->Rename(tmp, dir / name));
  return fs->SyncDir(dir);
}

Status WriteFileAtomically(FileSystem* fs, const fs::path& dir, const std::string& name,
                           std::string_view text) {
  return WriteFileAtomically(
      fs, dir, name,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Result<std::string> ReadWholeTextFile(FileSystem* fs, const fs::path& path) {
  Result<std::vector<uint8_t>> bytes = ReadWholeFile(fs, path);
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

Status CreateDirsDurably(FileSystem* fs, const fs::path& dir) {
  Result<bool> exists = fs->Exists(dir);
  if (!exists.ok()) return exists.status();
  if (*exists) return Status::Ok();
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) SLUICE_RETURN_IF_ERROR(CreateDirsDurably(fs, parent));
  Status created = fs->CreateDir(dir);
  if (created.IsAlreadyExists()) return Status::Ok();  // Made by someone else meanwhile.
  SLUICE_RETURN_IF_ERROR(created);
  return fs->SyncDir(parent.empty() ? fs::path(".") : parent);
}

Result<std::vector<uint8_t>> ReadWholeFile(FileSystem* fs, const fs::path& path) {
  Result<std::shared_ptr<File>> f = fs->Open(path, /*create=*/false);
  if (!f.ok()) return f.status();
  Result<uint64_t> size = (*f)->Size();
  if (!size.ok()) return size.status();
  std::vector<uint8_t> out(*size);
  SLUICE_RETURN_IF_ERROR(ReadFully(**f, 0, out));
  return out;
}

}  // namespace sluice::storage
