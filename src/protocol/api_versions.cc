#include "protocol/api_versions.h"

#include "protocol/error_code.h"
#include "protocol/header.h"

namespace sluice::protocol {

std::vector<ApiVersionsResponse::ApiVersion> AdvertisedVersions(std::span<const ApiInfo> apis) {
  std::vector<ApiVersionsResponse::ApiVersion> out;
  out.reserve(apis.size());
  for (const ApiInfo& api : apis) {
    ApiVersionsResponse::ApiVersion v;
    v.api_key = api.key;
    v.min_version = api.min_version;
    v.max_version = api.max_version;
    out.push_back(v);
  }
  return out;
}

bool NeedsApiVersionsFallback(const RequestHeader& header) {
  return header.request_api_key == ApiVersionsRequest::kApiKey &&
         (header.request_api_version > ApiVersionsRequest::kMaxVersion ||
          header.request_api_version < ApiVersionsRequest::kMinVersion);
}

ApiVersionsResponse UnsupportedApiVersionsResponse() {
  ApiVersionsResponse response;
  response.error_code = ToWire(ErrorCode::UNSUPPORTED_VERSION);
  ApiVersionsResponse::ApiVersion v;
  v.api_key = ApiVersionsRequest::kApiKey;
  v.min_version = ApiVersionsRequest::kMinVersion;
  v.max_version = ApiVersionsRequest::kMaxVersion;
  response.api_keys.push_back(v);
  return response;
}

OutputChain UnsupportedApiVersionsFrame(int32_t correlation_id) {
  return EncodeResponseFrame(correlation_id, 0, UnsupportedApiVersionsResponse());
}

}  // namespace sluice::protocol
