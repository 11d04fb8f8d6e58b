#include "storage/offset_map.h"

#include <algorithm>

namespace sluice::storage {
namespace {

std::string_view View(std::span<const uint8_t> key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

}  // namespace

void OffsetMap::Put(std::span<const uint8_t> key, int64_t offset) {
  auto it = map_.find(View(key));
  if (it != map_.end()) {
    it->second = std::max(it->second, offset);
    return;
  }
  map_.emplace(std::string(View(key)), offset);
  bytes_ += key.size() + kEntryOverhead;
}

std::optional<int64_t> OffsetMap::Get(std::span<const uint8_t> key) const {
  auto it = map_.find(View(key));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sluice::storage
