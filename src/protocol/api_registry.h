// The APIs this build speaks, generated from messages/*.msg (the table lives
// in the generated api_registry.cc; nothing here is kept by hand).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sluice::protocol {

struct ApiInfo {
  int16_t key;
  const char* name;
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible_version;  // -1: never flexible.

  bool Supports(int16_t version) const {
    return version >= min_version && version <= max_version;
  }
  bool IsFlexible(int16_t version) const {
    return first_flexible_version >= 0 && version >= first_flexible_version;
  }
};

// Every API, ordered by key.
std::span<const ApiInfo> AllApis();

namespace detail {
// Generated with AllApis: kApiByKey[key] for 0 <= key <= kMaxApiKey is a copy
// of the API's entry, or has key -1 where there is none. Copies rather than
// pointers, so that a request's header version is one load away.
extern const int16_t kMaxApiKey;
extern const ApiInfo kApiByKey[];
// Its v0 is the only request with a v0 header.
inline constexpr int16_t kControlledShutdownKey = 7;
}  // namespace detail

// nullptr for a key this build does not know. Inline: runs for every request.
inline const ApiInfo* FindApi(int16_t key) {
  if (key < 0 || key > detail::kMaxApiKey) return nullptr;
  const ApiInfo* api = &detail::kApiByKey[key];
  return api->key == key ? api : nullptr;
}

// Header versions for a request/response of (key, version), which must be
// supported. The request header is v0 only for ControlledShutdown v0, else
// v1, or v2 in flexible versions. The response header is v0, or v1 in
// flexible versions, except ApiVersions: always v0 (KIP-511), because a
// client parses it before knowing which versions the broker speaks.
int16_t RequestHeaderVersion(int16_t api_key, int16_t api_version);
// The same for an API already looked up (saves a second FindApi per request).
inline int16_t RequestHeaderVersion(const ApiInfo& api, int16_t api_version) {
  if (api.key == detail::kControlledShutdownKey && api_version == 0) return 0;
  return api.IsFlexible(api_version) ? 2 : 1;
}
int16_t ResponseHeaderVersion(int16_t api_key, int16_t api_version);

}  // namespace sluice::protocol
