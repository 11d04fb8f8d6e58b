// Helpers for the broker's ApiVersions handler (the first request on every
// connection; see /work/shared/conformance/API-MATRIX.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/output_chain.h"
#include "protocol/api_registry.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/request_header.h"

namespace sluice::protocol {

// The api_keys list of an ApiVersions response advertising `apis` (by
// default everything this build can parse). The broker passes a filtered
// list so that it never advertises an API it does not implement.
std::vector<ApiVersionsResponse::ApiVersion> AdvertisedVersions(
    std::span<const ApiInfo> apis = AllApis());

// True for an ApiVersions request whose version this build cannot parse:
// the KIP-511 case, answered by UnsupportedApiVersionsResponse.
bool NeedsApiVersionsFallback(const RequestHeader& header);

// KIP-511: the response to an ApiVersions request of an unsupported version,
// to be encoded at version 0 (with the v0 response header): error
// UNSUPPORTED_VERSION and, like Kafka, only the ApiVersions entry, from which
// the client picks min(its max, our max) and retries.
ApiVersionsResponse UnsupportedApiVersionsResponse();

// The complete frame (size, v0 header, v0 body) of that response.
OutputChain UnsupportedApiVersionsFrame(int32_t correlation_id);

}  // namespace sluice::protocol
