// The four Kafka record-batch codecs behind one interface.
//
// A v2 record batch compresses everything after its 61-byte header as one
// unit with the codec named in attributes bits 0-2. The functions here append
// to a caller's vector rather than returning a fresh one so that the batch
// builder can compress straight in after the header it has already written,
// and so that a reader can reuse one buffer across batches.
//
// Decompression is bounded: a small batch that would expand beyond
// DecompressOptions::max_output_bytes is refused with InvalidArgument
// ("decompression bomb") before the memory is committed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::compression {

// Values are the attribute bits of a record batch.
enum class Codec : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

inline constexpr uint8_t kMaxCodecId = 4;
inline constexpr size_t kDefaultMaxDecompressedBytes = size_t{64} << 20;

std::string_view CodecName(Codec codec);

// Parses "none", "gzip", "snappy", "lz4", "zstd" (Kafka's compression.type).
std::optional<Codec> ParseCodecName(std::string_view name);

struct DecompressOptions {
  // Output larger than this is refused. Brokers set a multiple of
  // max.message.bytes; the default suits tests and tools.
  size_t max_output_bytes = kDefaultMaxDecompressedBytes;
};

// Appends the compressed form of `input` to *out. `level` is codec-specific
// (gzip 1-9, lz4 0-12, zstd 1-22; ignored by snappy); nullopt picks the
// codec's usual default. Output format matches what Kafka clients write:
// gzip with a gzip wrapper, raw snappy (like librdkafka), an LZ4 frame with
// independent 64 KiB blocks, a zstd frame.
Status CompressInto(Codec codec, std::span<const uint8_t> input, std::vector<uint8_t>* out,
                    std::optional<int> level = std::nullopt);

// Appends the decompressed form of `input` to *out. Accepts everything Kafka
// clients produce: gzip (one or more members), raw or xerial-framed snappy,
// LZ4 frames, zstd frames with or without a content size.
// On error *out is left as it was.
Status DecompressInto(Codec codec, std::span<const uint8_t> input, std::vector<uint8_t>* out,
                      const DecompressOptions& options = {});

// Convenience forms returning a fresh vector.
Result<std::vector<uint8_t>> Compress(Codec codec, std::span<const uint8_t> input,
                                      std::optional<int> level = std::nullopt);
Result<std::vector<uint8_t>> Decompress(Codec codec, std::span<const uint8_t> input,
                                        const DecompressOptions& options = {});

// True when `status` is the refusal of a decompression bomb.
bool IsOutputLimitExceeded(const Status& status);

}  // namespace sluice::compression
