#include "protocol/api_registry.h"

#include <array>

namespace sluice::protocol {

namespace {
constexpr int16_t kMaxIndexedKey = 255;
constexpr int16_t kControlledShutdownKey = 7;
constexpr int16_t kApiVersionsKey = 18;
}  // namespace

const ApiInfo* FindApi(int16_t key) {
  // Runs for every request: index the (generated) table by key once.
  static const std::array<const ApiInfo*, kMaxIndexedKey + 1> by_key = [] {
    std::array<const ApiInfo*, kMaxIndexedKey + 1> index{};
    for (const ApiInfo& api : AllApis()) {
      if (api.key >= 0 && api.key <= kMaxIndexedKey) index[static_cast<size_t>(api.key)] = &api;
    }
    return index;
  }();
  if (key >= 0 && key <= kMaxIndexedKey) return by_key[static_cast<size_t>(key)];
  for (const ApiInfo& api : AllApis()) {
    if (api.key == key) return &api;
  }
  return nullptr;
}

int16_t RequestHeaderVersion(int16_t api_key, int16_t api_version) {
  if (api_key == kControlledShutdownKey && api_version == 0) return 0;
  const ApiInfo* api = FindApi(api_key);
  return api != nullptr && api->IsFlexible(api_version) ? 2 : 1;
}

int16_t ResponseHeaderVersion(int16_t api_key, int16_t api_version) {
  if (api_key == kApiVersionsKey) return 0;
  const ApiInfo* api = FindApi(api_key);
  return api != nullptr && api->IsFlexible(api_version) ? 1 : 0;
}

}  // namespace sluice::protocol
