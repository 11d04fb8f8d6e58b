#include "protocol/header.h"

#include "base/endian.h"

namespace sluice::protocol {

Result<RequestHeader> DecodeRequestHeader(Reader& in) {
  RequestHeader header;
  SLUICE_RETURN_IF_ERROR(DecodeRequestHeader(in, &header));
  return header;
}

namespace detail {

Status NoRequestHeader(Reader& in) {
  in.SetRoot("RequestHeader");
  return in.Error("request of " + std::to_string(in.remaining()) + " bytes has no header");
}

}  // namespace detail

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
