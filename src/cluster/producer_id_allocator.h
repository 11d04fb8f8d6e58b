// ProducerIdAllocator: hands out idempotent producer ids that are never
// reused, even across restarts. Ids are reserved in blocks persisted before
// use (as Kafka's controller does), so a crash wastes at most one block and
// costs one fsync per block, not per id. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "base/status.h"
#include "base/mutex.h"
#include "storage/file.h"

namespace sluice::cluster {

class ProducerIdAllocator {
 public:
  static constexpr int64_t kBlockSize = 1000;

  // Reads `<dir>/producer-id-block` (creating `dir` if needed); every later
  // block is reserved by an atomic rewrite of that file through `fs`.
  static Result<std::unique_ptr<ProducerIdAllocator>> Open(storage::FileSystem* fs,
                                                           const std::filesystem::path& dir);

  Result<int64_t> Next();

 private:
  ProducerIdAllocator(storage::FileSystem* fs, std::filesystem::path dir, int64_t next_block)
      : fs_(fs), dir_(std::move(dir)), next_block_(next_block) {}

  Mutex mu_;
  storage::FileSystem* const fs_;
  const std::filesystem::path dir_;
  int64_t next_block_ GUARDED_BY(mu_);   // First id of the next unreserved block (persisted).
  int64_t next_id_ GUARDED_BY(mu_) = 0;  // Next id of the current block.
  int64_t block_end_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::cluster
