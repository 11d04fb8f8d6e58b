#include "protocol/api_registry.h"

namespace sluice::protocol {

namespace {
constexpr int16_t kApiVersionsKey = 18;
}  // namespace

int16_t RequestHeaderVersion(int16_t api_key, int16_t api_version) {
  const ApiInfo* api = FindApi(api_key);
  if (api == nullptr) return api_key == detail::kControlledShutdownKey && api_version == 0 ? 0 : 1;
  return RequestHeaderVersion(*api, api_version);
}

int16_t ResponseHeaderVersion(int16_t api_key, int16_t api_version) {
  if (api_key == kApiVersionsKey) return 0;
  const ApiInfo* api = FindApi(api_key);
  return api != nullptr && api->IsFlexible(api_version) ? 1 : 0;
}

}  // namespace sluice::protocol
