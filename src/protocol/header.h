// Request/response framing: the header in front of every body, and the
// encoders that put a header and a body together.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/endian.h"
#include "base/output_chain.h"
#include "base/status.h"
#include "protocol/api_registry.h"
#include "protocol/generated/request_header.h"
#include "protocol/generated/response_header.h"

namespace sluice::protocol {

// Decodes the request header at the start of `in` (a frame without its size
// prefix), choosing the header version from the api key and version it starts
// with (RequestHeaderVersion). For an unknown key or an unsupported version
// only the v1 part is read (key, version, correlation id, client id: the same
// in every header version), which is enough to answer UNSUPPORTED_VERSION;
// `in` is then not positioned at the body, which must not be decoded.
Result<RequestHeader> DecodeRequestHeader(Reader& in);
// The same into an existing header (the request context's). Inline: it runs
// for every request.
inline Status DecodeRequestHeader(Reader& in, RequestHeader* header);

// Header + body, without the 4-byte size prefix (clients, tests, tools).
template <typename Body>
std::vector<uint8_t> EncodeRequest(const RequestHeader& header, const Body& body) {
  Writer out;
  header.Encode(out, RequestHeaderVersion(Body::kApiKey, header.request_api_version));
  body.Encode(out, header.request_api_version);
  return out.Take();
}

// A whole response frame (int32 size, header, body) ready for the socket;
// Records held as FileSlice become sendfile pieces.
template <typename Body>
OutputChain EncodeResponseFrame(int32_t correlation_id, int16_t api_version, const Body& body) {
  OutputChain chain;
  Writer out(&chain);
  out.WriteInt32(0);  // Size, patched below.
  ResponseHeader header;
  header.correlation_id = correlation_id;
  header.Encode(out, ResponseHeaderVersion(Body::kApiKey, api_version));
  body.Encode(out, api_version);
  out.Finish();
  auto& first = std::get<std::vector<uint8_t>>(chain.mutable_pieces().front());
  StoreBigEndian(first.data(), static_cast<int32_t>(chain.size() - 4));
  return chain;
}

// The bytes of a chain whose pieces are all in memory (tests, tools).
std::vector<uint8_t> FlattenInMemory(const OutputChain& chain);

namespace detail {
[[gnu::cold, gnu::noinline]] Status NoRequestHeader(Reader& in);
}  // namespace detail

inline Status DecodeRequestHeader(Reader& in, RequestHeader* header) {
  const std::span<const uint8_t> peek = in.rest();
  if (peek.size() < 4) [[unlikely]] return detail::NoRequestHeader(in);
  const int16_t key = LoadBigEndian<int16_t>(peek.data());
  const int16_t version = LoadBigEndian<int16_t>(peek.data() + 2);
  const ApiInfo* api = FindApi(key);
  const int16_t header_version =
      api != nullptr && api->Supports(version) ? RequestHeaderVersion(*api, version) : 1;
  return header->Decode(in, header_version);
}

}  // namespace sluice::protocol
