#include "compression/compression.h"

#include <fmt/format.h>

#include <algorithm>

#include "compression/codec_internal.h"

namespace sluice::compression {

namespace {
constexpr std::string_view kLimitPrefix = "decompressed size exceeds";
}  // namespace

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kGzip: return "gzip";
    case Codec::kSnappy: return "snappy";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "unknown";
}

std::optional<Codec> ParseCodecName(std::string_view name) {
  for (uint8_t id = 0; id <= kMaxCodecId; ++id) {
    if (CodecName(static_cast<Codec>(id)) == name) return static_cast<Codec>(id);
  }
  return std::nullopt;
}

Status CompressInto(Codec codec, std::span<const uint8_t> input, std::vector<uint8_t>* out,
                    std::optional<int> level) {
  switch (codec) {
    case Codec::kNone:
      out->insert(out->end(), input.begin(), input.end());
      return Status::Ok();
    case Codec::kGzip: return internal::GzipCompress(input, out, level);
    case Codec::kSnappy: return internal::SnappyCompress(input, out);
    case Codec::kLz4: return internal::Lz4Compress(input, out, level);
    case Codec::kZstd: return internal::ZstdCompress(input, out, level);
  }
  return Status::NotSupported(fmt::format("unknown compression codec {}", static_cast<int>(codec)));
}

Status DecompressInto(Codec codec, std::span<const uint8_t> input, std::vector<uint8_t>* out,
                      const DecompressOptions& options) {
  const size_t limit = options.max_output_bytes;
  switch (codec) {
    case Codec::kNone:
      if (input.size() > limit) return internal::OutputLimitExceeded(codec, limit);
      out->insert(out->end(), input.begin(), input.end());
      return Status::Ok();
    case Codec::kGzip: return internal::GzipDecompress(input, out, limit);
    case Codec::kSnappy: return internal::SnappyDecompress(input, out, limit);
    case Codec::kLz4: return internal::Lz4Decompress(input, out, limit);
    case Codec::kZstd: return internal::ZstdDecompress(input, out, limit);
  }
  return Status::NotSupported(fmt::format("unknown compression codec {}", static_cast<int>(codec)));
}

Result<std::vector<uint8_t>> Compress(Codec codec, std::span<const uint8_t> input,
                                      std::optional<int> level) {
  std::vector<uint8_t> out;
  SLUICE_RETURN_IF_ERROR(CompressInto(codec, input, &out, level));
  return out;
}

Result<std::vector<uint8_t>> Decompress(Codec codec, std::span<const uint8_t> input,
                                        const DecompressOptions& options) {
  std::vector<uint8_t> out;
  SLUICE_RETURN_IF_ERROR(DecompressInto(codec, input, &out, options));
  return out;
}

bool IsOutputLimitExceeded(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument &&
         std::string_view(status.message()).starts_with(kLimitPrefix);
}

namespace internal {

Status OutputLimitExceeded(Codec codec, size_t limit) {
  return Status::InvalidArgument(fmt::format(
      "{} the limit of {} bytes ({} payload); refusing a possible decompression bomb",
      kLimitPrefix, limit, CodecName(codec)));
}

size_t InitialOutputSize(size_t in_size, std::optional<uint64_t> declared, size_t limit) {
  const uint64_t trusted = uint64_t{in_size} * 64 + (64 << 10);
  const uint64_t guess = declared.value_or(uint64_t{in_size} * 4);
  return static_cast<size_t>(std::min<uint64_t>({guess, trusted, limit}));
}

bool GrowOutput(std::vector<uint8_t>* out, size_t start, size_t used, size_t limit, size_t hint) {
  const size_t have = out->size() - start;  // Room already allocated for output.
  if (used < have) return true;
  if (have >= limit) return false;
  size_t want = std::max({have * 2, hint, size_t{4096}});
  want = std::min(want, limit);
  out->resize(start + want);
  return true;
}

}  // namespace internal
}  // namespace sluice::compression
