#include "cluster/producer_id_allocator.h"

#include <charconv>
#include <string>

#include <fmt/format.h>

namespace sluice::cluster {
namespace {

constexpr char kFileName[] = "producer-id-block";

}  // namespace

Result<std::unique_ptr<ProducerIdAllocator>> ProducerIdAllocator::Open(
    storage::FileSystem* fs, const std::filesystem::path& dir) {
  SLUICE_RETURN_IF_ERROR(storage::CreateDirsDurably(fs, dir));
  const auto path = dir / kFileName;
  int64_t next_block = 0;
  Result<std::string> text = storage::ReadWholeTextFile(fs, path);
  if (!text.ok() && !text.status().IsNotFound()) return text.status();
  if (text.ok()) {
    std::string_view digits(*text);
    while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) {
      digits.remove_suffix(1);
    }
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), next_block);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return Status::Corruption(fmt::format("{}: not a number", path.string()));
    }
  }
  if (next_block < 0) return Status::Corruption(fmt::format("{}: negative", path.string()));
  return std::unique_ptr<ProducerIdAllocator>(new ProducerIdAllocator(fs, dir, next_block));
}

std::unique_ptr<ProducerIdAllocator> ProducerIdAllocator::FromSource(BlockSource source) {
  return std::unique_ptr<ProducerIdAllocator>(new ProducerIdAllocator(std::move(source)));
}

std::optional<int64_t> ProducerIdAllocator::TryNext() {
  MutexLock lock(&mu_);
  if (next_id_ >= block_end_) return std::nullopt;
  return next_id_++;
}

Result<int64_t> ProducerIdAllocator::Next() {
  MutexLock lock(&mu_);
  if (next_id_ >= block_end_ && source_) {
    Result<int64_t> start = source_();
    if (!start.ok()) return start.status();
    next_id_ = *start;
    block_end_ = *start + kBlockSize;
  } else if (next_id_ >= block_end_) {
    const int64_t start = next_block_;
    SLUICE_RETURN_IF_ERROR(storage::WriteFileAtomically(fs_, dir_, kFileName,
                                                         std::to_string(start + kBlockSize) + "\n"));
    next_block_ = start + kBlockSize;
    next_id_ = start;
    block_end_ = start + kBlockSize;
  }
  return next_id_++;
}

}  // namespace sluice::cluster
