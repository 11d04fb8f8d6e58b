// TmpfsMount: a small tmpfs mounted on a temporary directory, for tests that
// give a broker a disk that fills up.
//
//   auto disk = TmpfsMount::Create(64 << 20, &why_not);  // nullptr: skip
//   ... a broker's log.dirs under disk->path() ...
//   auto filled = disk->Fill();   // a filler file takes every free byte
//   disk->Unfill();               // and gives them back
//
// The destructor unmounts (lazily, so a process still holding a file there
// cannot keep the mount alive past the test) and removes the directory,
// whatever state the test left. Requires root (CAP_SYS_ADMIN). Not
// thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"
#include "support/temp_dir.h"

namespace sluice::testing {

class TmpfsMount {
 public:
  // A tmpfs of `bytes` bytes, or nullptr with `*why_not` saying why not.
  static std::unique_ptr<TmpfsMount> Create(uint64_t bytes, std::string* why_not);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes a filler file until the file system refuses more (ENOSPC);
  // returns the bytes it took. Call again to take what was freed since.
  Result<uint64_t> Fill();
  // Deletes the filler file.
  Status Unfill();
  // Free bytes right now (statvfs).
  uint64_t FreeBytes() const;

 private:
  TmpfsMount() = default;

  TempDir dir_;
  std::filesystem::path path_;
  bool mounted_ = false;
  int filler_count_ = 0;
};

}  // namespace sluice::testing
