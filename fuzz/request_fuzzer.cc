// Decodes a request header and body for whatever api key and version the
// input names; whatever decodes must re-encode and decode to the same value
// (and re-encode to the same bytes). The body is also tried as the matching
// response, which clients and tools decode. Seeds: fuzz/corpus/request/,
// written by protocol_test's SeedCorpus test.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <vector>

#include "protocol/api_versions.h"
#include "protocol/generated/all_messages.h"
#include "protocol/header.h"

namespace sluice::protocol {
namespace {

[[noreturn]] void Fail(const char* what, const char* name, int16_t version) {
  std::fprintf(stderr, "request_fuzzer: %s: %s v%d\n", what, name, version);
  std::abort();
}

template <typename T>
void CheckMessage(std::span<const uint8_t> body, int16_t version) {
  Reader in(body);
  T first;
  if (!first.Decode(in, version).ok()) return;
  Writer w;
  first.Encode(w, version);
  std::vector<uint8_t> bytes = w.Take();
  Reader again(bytes);
  T second;
  Status s = second.Decode(again, version);
  if (!s.ok()) Fail("re-encoded message does not decode", T::kName, version);
  if (again.remaining() != 0) Fail("re-encoded message has trailing bytes", T::kName, version);
  if (!(second == first)) Fail("decode(encode(x)) != x", T::kName, version);
  Writer w2;
  second.Encode(w2, version);
  if (w2.Take() != bytes) Fail("encode is not stable", T::kName, version);
}

}  // namespace
}  // namespace sluice::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::protocol;
  Reader in(std::span<const uint8_t>(data, size));
  sluice::Result<RequestHeader> header = DecodeRequestHeader(in);
  if (!header.ok()) return 0;
  const int16_t key = header->request_api_key;
  const int16_t version = header->request_api_version;
  if (NeedsApiVersionsFallback(*header)) {
    sluice::OutputChain chain = UnsupportedApiVersionsFrame(header->correlation_id);
    if (chain.size() < 8) std::abort();
    return 0;
  }
  const ApiInfo* api = FindApi(key);
  if (api == nullptr || !api->Supports(version)) return 0;
  // The header itself round-trips at the version it was read with.
  const int16_t header_version = RequestHeaderVersion(key, version);
  CheckMessage<RequestHeader>(std::span<const uint8_t>(data, size), header_version);
  const std::span<const uint8_t> body = in.rest();
  VisitApi(key, [&]<typename Req, typename Resp>() {
    CheckMessage<Req>(body, version);
    CheckMessage<Resp>(body, version);
  });
  return 0;
}
