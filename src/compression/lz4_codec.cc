// LZ4 frame format (lz4frame.h). Kafka's Java reader requires independent
// blocks, so that is what we write. The pre-0.10 "broken header checksum"
// framing only ever appeared inside magic 0/1 message sets, which Sluice
// refuses, so it is not accepted here.
#include <lz4frame.h>

#include <fmt/format.h>

#include "compression/codec_internal.h"

namespace sluice::compression::internal {

Status Lz4Compress(std::span<const uint8_t> in, std::vector<uint8_t>* out,
                   std::optional<int> level) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level.value_or(0);
  const size_t start = out->size();
  out->resize(start + LZ4F_compressFrameBound(in.size(), &prefs));
  const size_t n = LZ4F_compressFrame(out->data() + start, out->size() - start, in.data(),
                                      in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out->resize(start);
    return Status::IOError(fmt::format("lz4: compress failed: {}", LZ4F_getErrorName(n)));
  }
  out->resize(start + n);
  return Status::Ok();
}

Status Lz4Decompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
    return Status::IOError("lz4: cannot create a decompression context");
  }
  const size_t start = out->size();
  size_t used = 0;
  size_t pos = 0;
  const size_t size_hint = InitialOutputSize(in.size(), std::nullopt, limit);
  size_t hint = 1;  // LZ4F's "bytes expected next"; 0 once a frame has ended.
  Status status;
  // Runs until every frame is complete and all input is used; a call that
  // neither consumes input nor produces output (room is always available)
  // means the input ended inside a frame. Frames may be concatenated.
  while (pos < in.size() || hint != 0) {
    if (!GrowOutput(out, start, used, limit, size_hint)) {
      status = OutputLimitExceeded(Codec::kLz4, limit);
      break;
    }
    size_t dst_size = out->size() - start - used;
    size_t src_size = in.size() - pos;
    hint = LZ4F_decompress(dctx, out->data() + start + used, &dst_size, in.data() + pos,
                           &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      status = Status::Corruption(fmt::format("lz4: corrupt frame: {}", LZ4F_getErrorName(hint)));
      break;
    }
    pos += src_size;
    used += dst_size;
    if (src_size == 0 && dst_size == 0) {
      status = Status::Corruption("lz4: frame truncated");
      break;
    }
  }
  LZ4F_freeDecompressionContext(dctx);
  out->resize(status.ok() ? start + used : start);
  return status;
}

}  // namespace sluice::compression::internal
