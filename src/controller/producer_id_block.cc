#include "controller/producer_id_block.h"

#include <fmt/format.h>

#include "zk/znodes.h"

namespace sluice::controller {

Result<int64_t> ReserveProducerIdBlock(zk::ZkClient& zk, int32_t broker_id, int64_t block_size) {
  // A race lost costs one round trip; many in a row mean something is wrong.
  constexpr int kAttempts = 20;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    zk::ZkResult<zk::ZkNode> node = zk.Get(zk::kProducerIdBlockPath);
    if (node.code() == zk::ZkCode::kNoNode) {
      const zk::ProducerIdBlock first{broker_id, 0, block_size - 1};
      zk::ZkResult<std::string> created = zk.Create(
          zk::kProducerIdBlockPath, zk::EncodeProducerIdBlock(first), zk::CreateMode::kPersistent);
      if (created.ok()) return first.start;
      if (created.code() == zk::ZkCode::kNodeExists) continue;  // another broker was first
      return created.ToStatus();
    }
    if (!node.ok()) return node.ToStatus();
    Result<zk::ProducerIdBlock> last = zk::DecodeProducerIdBlock(node->data);
    if (!last.ok()) return last.status();
    if (last->end > INT64_MAX - block_size) {
      return Status::OutOfRange("the cluster has handed out every producer id");
    }
    const zk::ProducerIdBlock next{broker_id, last->end + 1, last->end + block_size};
    zk::ZkResult<zk::ZkStat> set =
        zk.Set(zk::kProducerIdBlockPath, zk::EncodeProducerIdBlock(next), node->stat.version);
    if (set.ok()) return next.start;
    if (set.code() != zk::ZkCode::kBadVersion) return set.ToStatus();
  }
  return Status::Aborted(fmt::format("no producer id block after {} attempts", kAttempts));
}

}  // namespace sluice::controller
