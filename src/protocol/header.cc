#include "protocol/header.h"

#include "base/endian.h"

namespace sluice::protocol {

Result<RequestHeader> DecodeRequestHeader(Reader& in) {
  RequestHeader header;
  SLUICE_RETURN_IF_ERROR(DecodeRequestHeader(in, &header));
  return header;
}

Status DecodeRequestHeader(Reader& in, RequestHeader* header) {
  auto peek = in.rest();
  if (peek.size() < 4) {
    in.SetRoot("RequestHeader");
    return in.Error("request of " + std::to_string(peek.size()) + " bytes has no header");
  }
  const int16_t key = LoadBigEndian<int16_t>(peek.data());
  const int16_t version = LoadBigEndian<int16_t>(peek.data() + 2);
  const ApiInfo* api = FindApi(key);
  const int16_t header_version =
      api != nullptr && api->Supports(version) ? RequestHeaderVersion(key, version) : 1;
  return header->Decode(in, header_version);
}

std::vector<uint8_t> FlattenInMemory(const OutputChain& chain) {
  std::vector<uint8_t> out;
  out.reserve(chain.size());
  for (const auto& piece : chain.pieces()) {
    if (const auto* bytes = std::get_if<std::vector<uint8_t>>(&piece)) {
      out.insert(out.end(), bytes->begin(), bytes->end());
    }
  }
  return out;
}

}  // namespace sluice::protocol
