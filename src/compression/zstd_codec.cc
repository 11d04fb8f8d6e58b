// zstd. Decoding streams because producers (librdkafka, the Java client) may
// write frames without a content size, so the output size is not known up
// front.
#include <zstd.h>
#include <zstd_errors.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "compression/codec_internal.h"

namespace sluice::compression::internal {

namespace {
// zstd's own default ceiling for the decoder's window (1 << 27).
constexpr int kMaxWindowLog = 27;
constexpr int kMinWindowLog = 10;
}  // namespace

Status ZstdCompress(std::span<const uint8_t> in, std::vector<uint8_t>* out,
                    std::optional<int> level) {
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compress(out->data() + start, out->size() - start, in.data(), in.size(),
                                 level.value_or(ZSTD_CLEVEL_DEFAULT));
  if (ZSTD_isError(n)) {
    out->resize(start);
    return Status::IOError(fmt::format("zstd: compress failed: {}", ZSTD_getErrorName(n)));
  }
  out->resize(start + n);
  return Status::Ok();
}

Status ZstdDecompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return Status::IOError("zstd: cannot create a decompression context");
  // A frame can demand a window (memory) far beyond its output; no legitimate
  // frame needs one larger than the output limit, so cap it there too.
  const int window_log =
      std::clamp(static_cast<int>(std::bit_width(limit > 1 ? limit - 1 : 1)), kMinWindowLog,
                 kMaxWindowLog);
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, window_log);

  // Frames usually declare their size: refuse a bomb before decoding it, and
  // allocate the output once. Frames without it grow the output as they go.
  std::optional<uint64_t> size;
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
    if (declared > limit) {
      ZSTD_freeDCtx(dctx);
      return OutputLimitExceeded(Codec::kZstd, limit);
    }
    size = declared;
  }
  const size_t size_hint = InitialOutputSize(in.size(), size, limit);
  const size_t start = out->size();
  size_t used = 0;
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  size_t hint = 1;  // 0 once a frame is complete and flushed.
  Status status;
  while (src.pos < src.size || hint != 0) {
    if (!GrowOutput(out, start, used, limit, size_hint)) {
      status = OutputLimitExceeded(Codec::kZstd, limit);
      break;
    }
    ZSTD_outBuffer dst{out->data() + start + used, out->size() - start - used, 0};
    const size_t in_before = src.pos;
    hint = ZSTD_decompressStream(dctx, &dst, &src);
    if (ZSTD_isError(hint) && ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge) {
      status = OutputLimitExceeded(Codec::kZstd, limit);  // Its window alone is past the limit.
      break;
    }
    if (ZSTD_isError(hint)) {
      status = Status::Corruption(fmt::format("zstd: corrupt frame: {}", ZSTD_getErrorName(hint)));
      break;
    }
    used += dst.pos;
    if (dst.pos == 0 && src.pos == in_before) {
      status = Status::Corruption("zstd: frame truncated");
      break;
    }
  }
  ZSTD_freeDCtx(dctx);
  out->resize(status.ok() ? start + used : start);
  return status;
}

}  // namespace sluice::compression::internal
