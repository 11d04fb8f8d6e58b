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

namespace sluice::cluster {

class ProducerIdAllocator {
 public:
  static constexpr int64_t kBlockSize = 1000;

  static Result<std::unique_ptr<ProducerIdAllocator>> Open(const std::filesystem::path& dir);

  Result<int64_t> Next();

 private:
  explicit ProducerIdAllocator(std::filesystem::path path, int64_t next_block)
      : path_(std::move(path)), next_block_(next_block) {}

  Mutex mu_;
  const std::filesystem::path path_;
  int64_t next_block_ GUARDED_BY(mu_);   // First id of the next unreserved block (persisted).
  int64_t next_id_ GUARDED_BY(mu_) = 0;  // Next id of the current block.
  int64_t block_end_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::cluster
