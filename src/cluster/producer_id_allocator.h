// ProducerIdAllocator: hands out idempotent producer ids that are never
// reused, even across restarts. Ids are reserved in blocks persisted before
// use (as Kafka's controller does), so a crash wastes at most one block and
// costs one fsync per block, not per id. On a single node the blocks are
// recorded in a file; in a cluster every broker hands out ids, so the
// blocks come from the cluster (a BlockSource: ZooKeeper's
// /latest_producer_id_block), or two brokers would give two producers one
// id and each would fence the other's sequence numbers. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

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

  // Reserves a new block of kBlockSize ids; returns its first id.
  using BlockSource = std::function<Result<int64_t>()>;
  static std::unique_ptr<ProducerIdAllocator> FromSource(BlockSource source);

  // The next id; reserves a new block first when the current one is used
  // up (a file write and sync, or a ZooKeeper round trip: blocking I/O).
  Result<int64_t> Next();
  // The next id of the current block, or nullopt when a new block is
  // needed (then call Next off the network threads). Never blocks on I/O.
  std::optional<int64_t> TryNext();

 private:
  ProducerIdAllocator(storage::FileSystem* fs, std::filesystem::path dir, int64_t next_block)
      : fs_(fs), dir_(std::move(dir)), next_block_(next_block) {}
  explicit ProducerIdAllocator(BlockSource source)
      : fs_(nullptr), source_(std::move(source)), next_block_(0) {}

  Mutex mu_;
  storage::FileSystem* const fs_;
  const std::filesystem::path dir_;
  const BlockSource source_;  // set: blocks from the cluster, not the file
  int64_t next_block_ GUARDED_BY(mu_);   // First id of the next unreserved block (persisted).
  int64_t next_id_ GUARDED_BY(mu_) = 0;  // Next id of the current block.
  int64_t block_end_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::cluster
