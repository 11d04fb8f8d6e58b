// DirLock: an exclusive flock(2) on `<data dir>/.lock`, which the broker
// takes on every log dir at start-up (as Kafka does), so that a second broker
// or tool pointed at the same data is refused instead of writing beside the
// first. The kernel drops the lock when the holder exits, even by kill -9, so
// a crash never leaves a stale lock behind.
//
// flock locks belong to the open file description: two DirLocks on one dir
// conflict even inside one process.
#pragma once

#include <filesystem>
#include <memory>

#include "base/status.h"

namespace sluice::storage {

inline constexpr char kDirLockFile[] = ".lock";

class DirLock {
 public:
  // Creates `dir` if missing, then locks it without waiting. Aborted, with a
  // message naming the directory, when another holder has it.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::filesystem::path& dir);
  ~DirLock();  // Releases the lock.
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sluice::storage
